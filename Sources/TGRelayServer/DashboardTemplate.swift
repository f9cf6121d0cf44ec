import Mustache

/// The dashboard's Mustache templates: one page and a sign-in form, with their CSS and the few lines of
/// script (refresh every 10 s) inline under the response's CSP nonce. No external assets.
enum DashboardTemplate {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        // The templates are constants: a parse error is a bug caught by every dashboard test.
        try! library.register(style, named: "style")
        try! library.register(page, named: "page")
        try! library.register(login, named: "login")
        return library
    }()

    static let style = """
        <style nonce="{{nonce}}">
        body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
        header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;justify-content:space-between;align-items:center}
        header h1{font-size:18px;margin:0} header form{margin:0}
        main{padding:16px 20px;max-width:1200px}
        section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 16px;margin-bottom:16px}
        h2{font-size:15px;margin:0 0 8px}
        table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
        th{font-weight:600;color:#566} .num{text-align:right;font-variant-numeric:tabular-nums}
        .banner{background:#b3261e;color:#fff;padding:12px 16px;border-radius:6px;margin-bottom:12px;font-weight:600}
        .flash{background:#e7f4ea;border:1px solid #9ccfa8;padding:8px 12px;border-radius:6px;margin-bottom:12px}
        .ok{color:#1e7b34} .down{color:#b3261e;font-weight:600}
        .bots{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px}
        .bot{border:1px solid #eef0f3;border-radius:6px;padding:8px}
        .chart .line{fill:none;stroke-width:2} .chart.queue .line{stroke:#c77700} .chart.rate .line{stroke:#1f6feb}
        .chart .axis{stroke:#ccd} .chart text{font-size:9px;fill:#667}
        button{cursor:pointer} .muted{color:#778}
        </style>
        """

    static let page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>tgrelay</title><link rel="icon" href="data:,">{{> style}}</head>
        <body>
        <header><h1>tgrelay</h1><span class="muted">updated {{generated}}</span>
        {{#signed_in}}<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Sign out</button></form>{{/signed_in}}
        </header>
        <main id="live">
        {{#banners}}<div class="banner" role="alert">Telegram unreachable since {{since}} — {{held}} messages held for bot {{bot}}, will be delivered automatically</div>{{/banners}}
        {{#flash}}<div class="flash" role="status">{{text}}</div>{{/flash}}
        <section><h2>Bots</h2><div class="bots">
        {{#bots}}<div class="bot" data-bot="{{name}}">
        <table><tr><th>{{name}}</th><td class="{{circuit_class}}">{{circuit}}</td></tr>
        <tr><td>queued</td><td class="num">{{queue}} (oldest {{oldest}})</td></tr>
        <tr><td>delivered</td><td class="num">{{delivered}} · {{rate}}/s now</td></tr>
        <tr><td>dead letters · expired</td><td class="num">{{dead}} · {{expired}}</td></tr></table>
        {{{queue_chart}}}
        {{{rate_chart}}}
        </div>{{/bots}}
        </div></section>
        <section id="dead-letters"><h2>Dead letters</h2>
        {{#no_dead_letters}}<p class="muted">None: every message was delivered, expired or is still on its way.</p>{{/no_dead_letters}}
        {{^no_dead_letters}}<table><tr><th>id</th><th>bot</th><th>chat</th><th>failed</th><th class="num">attempts</th><th>reason</th><th></th></tr>
        {{#dead_letters}}<tr><td>{{id}}</td><td>{{bot}}</td><td>{{chat}}</td><td>{{failed_at}}</td><td class="num">{{attempts}}</td><td>{{reason}}</td>
        <td><form method="post" action="/dashboard/dead-letters/{{id}}/replay"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="replay">Replay</button></form></td></tr>{{/dead_letters}}
        </table>{{/no_dead_letters}}
        </section>
        <section id="ledger"><h2>Ledger search</h2>
        <form method="get" action="/#ledger"><label>message id <input name="message" inputmode="numeric" value="{{search_message}}"></label>
        <label>or chat <input name="chat" value="{{search_chat}}"></label> <button type="submit">Search</button></form>
        {{#searched}}{{#no_ledger}}<p class="muted">No attempts recorded for this search.</p>{{/no_ledger}}
        {{^no_ledger}}<table><tr><th>seq</th><th>time</th><th>message</th><th>bot</th><th>chat</th><th>outcome</th><th>HTTP</th><th class="num">ms</th><th>description</th></tr>
        {{#ledger}}<tr><td>{{seq}}</td><td>{{at}}</td><td>{{message}}</td><td>{{bot}}</td><td>{{chat}}</td><td>{{outcome}}</td><td>{{status}}</td><td class="num">{{ms}}</td><td>{{description}}</td></tr>{{/ledger}}
        </table>{{/no_ledger}}{{/searched}}
        </section>
        <section id="inactive"><h2>Inactive chats</h2>
        {{#no_inactive}}<p class="muted">None.</p>{{/no_inactive}}
        {{^no_inactive}}<table><tr><th>bot</th><th>chat</th><th>since</th><th>reason</th></tr>
        {{#inactive}}<tr><td>{{bot}}</td><td>{{chat}}</td><td>{{since}}</td><td>{{reason}}</td></tr>{{/inactive}}</table>{{/no_inactive}}
        </section>
        </main>
        <script nonce="{{nonce}}">
        // Refreshes the live part every 10 s, unless the operator is typing or the tab is hidden.
        setInterval(async () => {
          const active = document.activeElement;
          if (document.hidden || (active && active.tagName === "INPUT")) return;
          try {
            const answer = await fetch(location.href, {credentials: "same-origin"});
            if (!answer.ok) return;
            const page = new DOMParser().parseFromString(await answer.text(), "text/html");
            const live = page.getElementById("live");
            if (live) document.getElementById("live").replaceWith(live);
          } catch (error) {
            // The relay is restarting or unreachable: keep showing the last state and try again later.
          }
        }, 10000);
        </script>
        </body></html>
        """

    static let login = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>tgrelay — sign in</title><link rel="icon" href="data:,">{{> style}}</head>
        <body><header><h1>tgrelay</h1></header>
        <main><section><h2>Sign in</h2>
        {{#error}}<div class="banner" role="alert">{{text}}</div>{{/error}}
        <form method="post" action="/login"><label>API key <input type="password" name="key" autocomplete="current-password" autofocus></label>
        <button type="submit">Sign in</button></form>
        <p class="muted">The relay's API key (TGRELAY_API_KEY). The browser keeps a session cookie for 12 hours, never the key.</p>
        </section></main></body></html>
        """
}
