#!/usr/bin/env python3
"""The peer of `tgrelay bench peers`: a broadcast sent the way a typical python-telegram-bot 22.x bot
sends it.

The bot is built as PTB's documentation shows (ApplicationBuilder with AIORateLimiter, PTB's own
defaults unless --max-retries is given), starts every send at once with asyncio.gather and lets the
rate limiter pace them. A send that raises (RetryAfter after the limiter's retries, NetworkError
during an outage, a timeout) is logged and counted, as a bot's error handler would, and not sent
again: the queue of pending sends lives only in this process's memory. Started without
--workload it is a bot that restarted after a crash: it comes up and has nothing left to send.

Prints one JSON object per line: {"event": "ready"} once the bot is initialized, then
{"event": "done", ...} with counts, its CPU seconds and peak RSS.
"""

import argparse
import asyncio
import collections
import json
import resource
import sys

from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder


def emit(**fields):
    print(json.dumps(fields), flush=True)


async def send(bot, chat_id, text, errors):
    try:
        await bot.send_message(chat_id=chat_id, text=text)
        return True
    except TelegramError as error:
        errors[type(error).__name__] += 1
        return False


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="Bot API base URL without the token, e.g. http://127.0.0.1:8081/bot")
    parser.add_argument("--token", required=True)
    parser.add_argument("--workload", help="JSON lines, one [chat_id, text] per line; none: a restarted bot")
    parser.add_argument("--max-retries", type=int, default=0, help="AIORateLimiter max_retries (PTB's default: 0)")
    args = parser.parse_args()

    work = []
    if args.workload:
        with open(args.workload, encoding="utf-8") as lines:
            work = [json.loads(line) for line in lines if line.strip()]

    application = (
        ApplicationBuilder()
        .token(args.token)
        .base_url(args.base_url)
        .rate_limiter(AIORateLimiter(max_retries=args.max_retries))
        .build()
    )
    errors = collections.Counter()
    async with application:
        emit(event="ready")
        results = await asyncio.gather(*(send(application.bot, chat, text, errors) for chat, text in work))

    usage = resource.getrusage(resource.RUSAGE_SELF)
    emit(
        event="done",
        sent=sum(results),
        failed=len(results) - sum(results),
        errors=dict(errors),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_bytes=usage.ru_maxrss * 1024,
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
