#!/usr/bin/env python3
"""Loads the tgrelay dashboard in headless Chromium through the DevTools protocol and reports, as JSON on
stdout, what a browser saw: console errors and exceptions (CSP violations and failed loads included), the
charts, the outage banner, the dead letters; optionally clicks the first Replay button and saves a
full-page screenshot.

    python3 scripts/dashboard_check.py --url http://127.0.0.1:8080/ --screenshot /tmp/dashboard.png [--click-replay]

Needs Debian's `chromium` and `pip install websockets`.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from websockets.sync.client import connect

PAGE_STATE = """(() => ({
  title: document.title,
  charts: document.querySelectorAll('svg.chart').length,
  drawn: [...document.querySelectorAll('svg.chart polyline')].filter(p => p.points.length > 1 && p.getBBox().width > 0).length,
  banner: (document.querySelector('.banner') || {}).textContent || '',
  flash: (document.querySelector('.flash') || {}).textContent || '',
  deadLetters: document.querySelectorAll('#dead-letters button.replay').length,
  bots: [...document.querySelectorAll('.bot')].map(b => b.dataset.bot),
}))()"""


class DevTools:
    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0
        self.events = []
        self.errors = []

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = self.receive(timeout=30)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def receive(self, timeout):
        message = json.loads(self.socket.recv(timeout=timeout))
        method = message.get("method")
        params = message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"log: {entry.get('text', '')} {entry.get('url', '')}".strip())
        elif method:
            self.events.append(method)
        return message

    def wait_for(self, event, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if event in self.events:
                self.events.remove(event)
                return
            try:
                self.receive(timeout=max(0.1, deadline - time.time()))
            except TimeoutError:
                break
        raise RuntimeError(f"timed out waiting for {event}")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def load(self, action):
        self.events.clear()
        action()
        self.wait_for("Page.loadEventFired")

    def screenshot(self, path):
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=max(height, 600), deviceScaleFactor=1, mobile=False)
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        import base64
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))


def start_chromium(profile):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        sys.exit("chromium not found: apt-get install chromium")
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        if time.time() > deadline or process.poll() is not None:
            process.kill()
            sys.exit("chromium did not start")
        time.sleep(0.1)
    port = int(open(port_file).read().split()[0])
    return process, port


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--screenshot")
    parser.add_argument("--click-replay", action="store_true")
    args = parser.parse_args()

    profile = tempfile.mkdtemp(prefix="tgrelay-chromium-")
    process, port = start_chromium(profile)
    try:
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t.get("type") == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=64 << 20) as socket:
            tools = DevTools(socket)
            for domain in ("Page", "Runtime", "Log"):
                tools.call(f"{domain}.enable")
            tools.load(lambda: tools.call("Page.navigate", url=args.url))
            report = {"before": tools.evaluate(PAGE_STATE)}
            if args.screenshot:
                tools.screenshot(args.screenshot)
            if args.click_replay:
                tools.load(lambda: tools.evaluate("document.querySelector('#dead-letters button.replay').click()"))
                report["after"] = tools.evaluate(PAGE_STATE)
                report["url"] = tools.evaluate("location.href")
            report["errors"] = tools.errors
            print(json.dumps(report))
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
