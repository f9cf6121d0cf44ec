#!/usr/bin/env python3
"""Drives a real bot library against the relay's Bot API proxy; run by BotLibraryTests.swift.

    bot_libraries.py LIBRARY SCENARIO --relay http://127.0.0.1:PORT --token TOKEN [--chat 42] [--count N] [--chats N]

LIBRARY: ptb (python-telegram-bot), aiogram, telebot (pyTelegramBotAPI).
SCENARIO:
  basics      send a text, upload a photo, edit the text, delete it, then poll for updates
  polling     run the library's own polling loop (its Application / Dispatcher / infinity_polling) until
              --count text messages were handled, then stop it as the library stops; prints their texts
  retries     send --count texts one after another while Telegram is down; the library's own retry
              handling (429 with retry_after from the relay) must end with every message sent once
  sequential  (ptb) --count texts to --chats chats, one after another, no rate limiter
  gather      (ptb) the same, all at once with asyncio.gather
The last line printed is `RESULT <json>`; the exit status is non-zero on any failure.
"""
import argparse
import asyncio
import base64
import io
import json
import sys
import time

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def result(**values):
    print("RESULT " + json.dumps(values), flush=True)


def ready():
    """With --go-signal: tell the driving test the bot is up, and wait until it has set the scene."""
    if ARGS.go_signal:
        print("READY", flush=True)
        sys.stdin.readline()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# ---------------------------------------------------------------- python-telegram-bot

def ptb_bot(args, pool=8):
    from telegram import Bot
    from telegram.request import HTTPXRequest

    # Without a rate limiter, with PTB's default timeouts (read 5 s); only the pool is sized for the load.
    request = HTTPXRequest(connection_pool_size=pool, pool_timeout=120)
    return Bot(args.token, base_url=f"{args.relay}/bot", base_file_url=f"{args.relay}/file/bot", request=request)


def seconds(retry_after):
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)


async def ptb_retrying(call, stats):
    """What a simple bot does with PTB: on RetryAfter, wait and send the same request again."""
    from telegram.error import RetryAfter

    while True:
        try:
            return await call()
        except RetryAfter as error:
            stats["retry_after"] += 1
            await asyncio.sleep(seconds(error.retry_after))


async def ptb_basics(args):
    from telegram import Message

    async with ptb_bot(args) as bot:
        text = await bot.send_message(args.chat, "text from ptb")
        photo = await bot.send_photo(args.chat, photo=PNG, caption="photo from ptb")
        edited = await bot.edit_message_text("edited by ptb", chat_id=args.chat, message_id=text.message_id)
        deleted = await bot.delete_message(args.chat, text.message_id)
        updates = await bot.get_updates(timeout=1)
        check(all(isinstance(m, Message) for m in (text, photo, edited)), "PTB did not get Message objects")
        return dict(
            text_id=text.message_id, photo_id=photo.message_id, photo_sizes=len(photo.photo), edited_text=edited.text,
            edited_id=edited.message_id, deleted=deleted, updates=[u.message.text for u in updates if u.message])


async def ptb_polling(args):
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    received = []
    done = asyncio.Event()

    async def handle(update, context):
        received.append(update.message.text)
        if len(received) >= args.count:
            done.set()

    application = (
        ApplicationBuilder().token(args.token).base_url(f"{args.relay}/bot").base_file_url(f"{args.relay}/file/bot").build()
    )
    application.add_handler(MessageHandler(filters.TEXT, handle))
    async with application:
        await application.updater.start_polling(timeout=1, poll_interval=0)
        await application.start()
        await wait_for(done)
        # As PTB stops: the updater's last getUpdates confirms what it fetched.
        await application.updater.stop()
        await application.stop()
    return dict(texts=received)


async def wait_for(event, seconds=60):
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except asyncio.TimeoutError:
        pass


async def ptb_retries(args):
    stats = {"retry_after": 0}
    async with ptb_bot(args) as bot:
        ready()
        ids = []
        for index in range(args.count):
            message = await ptb_retrying(lambda: bot.send_message(args.chat, f"retries ptb {index}"), stats)
            ids.append(message.message_id)
    return dict(ids=ids, **stats)


async def ptb_flood(args, concurrent):
    from telegram.error import RetryAfter, TelegramError

    stats = {"retry_after": 0, "other_errors": 0, "errors": []}
    chats = [args.chat + offset for offset in range(args.chats)]

    async def send(index):
        try:
            message = await ptb_retrying(lambda: bot.send_message(chats[index % len(chats)], f"flood {index}"), stats)
            return message.message_id
        except TelegramError as error:
            stats["other_errors"] += 1
            stats["errors"].append(f"{type(error).__name__}: {error}")
            return None

    started = time.monotonic()
    async with ptb_bot(args, pool=args.count if concurrent else 8) as bot:
        if concurrent:
            ids = await asyncio.gather(*(send(index) for index in range(args.count)))
        else:
            ids = [await send(index) for index in range(args.count)]
    stats["errors"] = stats["errors"][:10]
    return dict(delivered=sum(1 for i in ids if i is not None), seconds=round(time.monotonic() - started, 1), **stats)


# ---------------------------------------------------------------- aiogram 3

def aiogram_bot(args):
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    return Bot(args.token, session=AiohttpSession(api=TelegramAPIServer.from_base(args.relay)))


async def aiogram_retrying(call, stats):
    from aiogram.exceptions import TelegramRetryAfter

    while True:
        try:
            return await call()
        except TelegramRetryAfter as error:
            stats["retry_after"] += 1
            await asyncio.sleep(error.retry_after)


async def aiogram_basics(args):
    from aiogram.types import BufferedInputFile, Message

    bot = aiogram_bot(args)
    try:
        text = await bot.send_message(args.chat, "text from aiogram")
        photo = await bot.send_photo(args.chat, BufferedInputFile(PNG, filename="pixel.png"), caption="photo from aiogram")
        edited = await bot.edit_message_text("edited by aiogram", chat_id=args.chat, message_id=text.message_id)
        deleted = await bot.delete_message(args.chat, text.message_id)
        updates = await bot.get_updates(timeout=1)
        check(all(isinstance(m, Message) for m in (text, photo, edited)), "aiogram did not get Message objects")
        return dict(
            text_id=text.message_id, photo_id=photo.message_id, photo_sizes=len(photo.photo), edited_text=edited.text,
            edited_id=edited.message_id, deleted=deleted, updates=[u.message.text for u in updates if u.message])
    finally:
        await bot.session.close()


async def aiogram_polling(args):
    from aiogram import Dispatcher

    received = []
    done = asyncio.Event()
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def handle(message):
        received.append(message.text)
        if len(received) >= args.count:
            done.set()

    bot = aiogram_bot(args)
    polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False))
    await wait_for(done)
    await dispatcher.stop_polling()
    await polling
    return dict(texts=received)


async def aiogram_retries(args):
    stats = {"retry_after": 0}
    bot = aiogram_bot(args)
    ready()
    try:
        ids = []
        for index in range(args.count):
            message = await aiogram_retrying(lambda: bot.send_message(args.chat, f"retries aiogram {index}"), stats)
            ids.append(message.message_id)
        return dict(ids=ids, **stats)
    finally:
        await bot.session.close()


# ---------------------------------------------------------------- pyTelegramBotAPI

def telebot_bot(args):
    import telebot
    from telebot import apihelper

    apihelper.API_URL = args.relay + "/bot{0}/{1}"
    apihelper.FILE_URL = args.relay + "/file/bot{0}/{1}"
    return telebot.TeleBot(args.token, threaded=False)


def telebot_retrying(call, stats):
    from telebot.apihelper import ApiTelegramException

    while True:
        try:
            return call()
        except ApiTelegramException as error:
            if error.error_code != 429:
                raise
            stats["retry_after"] += 1
            time.sleep(error.result_json["parameters"]["retry_after"])


async def telebot_basics(args):
    from telebot.types import Message

    bot = telebot_bot(args)
    picture = io.BytesIO(PNG)
    picture.name = "pixel.png"
    text = bot.send_message(args.chat, "text from telebot")
    photo = bot.send_photo(args.chat, picture, caption="photo from telebot")
    edited = bot.edit_message_text("edited by telebot", chat_id=args.chat, message_id=text.message_id)
    deleted = bot.delete_message(args.chat, text.message_id)
    updates = bot.get_updates(timeout=5, long_polling_timeout=1)
    check(all(isinstance(m, Message) for m in (text, photo, edited)), "telebot did not get Message objects")
    return dict(
        text_id=text.message_id, photo_id=photo.message_id, photo_sizes=len(photo.photo), edited_text=edited.text,
        edited_id=edited.message_id, deleted=deleted, updates=[u.message.text for u in updates if u.message])


async def telebot_polling(args):
    import threading

    bot = telebot_bot(args)
    received = []

    @bot.message_handler(func=lambda message: True)
    def handle(message):
        received.append(message.text)
        if len(received) >= args.count:
            bot.stop_polling()

    deadline = threading.Timer(60, bot.stop_polling)
    deadline.start()
    bot.infinity_polling(timeout=5, long_polling_timeout=1)
    deadline.cancel()
    return dict(texts=received)


async def telebot_retries(args):
    stats = {"retry_after": 0}
    bot = telebot_bot(args)
    ready()
    ids = []
    for index in range(args.count):
        message = telebot_retrying(lambda: bot.send_message(args.chat, f"retries telebot {index}"), stats)
        ids.append(message.message_id)
    return dict(ids=ids, **stats)


ARGS = None

SCENARIOS = {
    ("ptb", "basics"): ptb_basics,
    ("ptb", "retries"): ptb_retries,
    ("ptb", "polling"): ptb_polling,
    ("ptb", "sequential"): lambda args: ptb_flood(args, concurrent=False),
    ("ptb", "gather"): lambda args: ptb_flood(args, concurrent=True),
    ("aiogram", "basics"): aiogram_basics,
    ("aiogram", "retries"): aiogram_retries,
    ("aiogram", "polling"): aiogram_polling,
    ("telebot", "basics"): telebot_basics,
    ("telebot", "retries"): telebot_retries,
    ("telebot", "polling"): telebot_polling,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("library", choices=["ptb", "aiogram", "telebot"])
    parser.add_argument("scenario")
    parser.add_argument("--relay", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--chat", type=int, default=42)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--chats", type=int, default=1)
    parser.add_argument("--go-signal", action="store_true", help="print READY once started, then wait for a line on stdin")
    args = parser.parse_args()
    global ARGS
    ARGS = args
    scenario = SCENARIOS.get((args.library, args.scenario))
    if scenario is None:
        sys.exit(f"no scenario {args.scenario} for {args.library}")
    result(**asyncio.run(scenario(args)))


if __name__ == "__main__":
    main()
