// 清审 web chat. Talks only to our own API; every text is set with textContent or as text nodes, never as HTML.
//
// Pushes (reminders, list notices, broadcasts) arrive on a live connection to the user's inbox
// (GET /api/v1/users/<id>/inbox/events, server-sent events read through fetch so that the API key and
// channel headers can be sent). Each is shown once and acknowledged by id (POST .../inbox/ack): only
// then does the server count it as delivered. The page chrome follows the contact's language, which the
// server says in the stream's `locale` event and in the Content-Language of every reply.
"use strict";

(function () {
  var API = "/api/v1/messages";
  var USER_KEY = "qingshen.user_id";
  var API_KEY = "qingshen.api_key";
  var LOCALE_KEY = "qingshen.locale";
  var SEEN_KEY = "qingshen.seen";
  var SEEN_LIMIT = 300;

  // The page's own words in both languages (the server's replies come translated already).
  var WORDS = {
    zh_CN: {
      lang: "zh-CN",
      docTitle: "清审 · 清洁生产审核助手",
      title: "清审",
      sub: "· 清洁生产审核助手",
      restart: "重新开始",
      restartWord: "重新开始",
      send: "发送",
      placeholder: "输入回答，按回车发送",
      inputLabel: "输入消息",
      logLabel: "对话",
      welcome: "您好！我是清审，可以根据您所在省份的规定，判断企业是否必须开展强制性清洁生产审核，并给出依据条款和各项期限。"
        + "\n\n点击“开始”或直接输入任意内容开始。",
      start: "开始",
      save: "保存",
      keyLabel: "API 密钥",
      keyNeeded: "此服务器需要 API 密钥才能使用。请输入管理员提供的密钥：",
      noKey: "此服务器尚未配置 API 密钥，暂时无法使用。请联系管理员设置 QINGSHEN_API_KEYS，或以演示模式（--demo）运行。",
      badKey: "需要有效的 API 密钥才能继续。",
      failed: "出错了，请稍后再试。",
      offline: "无法连接服务器，请检查网络后重试。",
      pushTag: "新消息"
    },
    en: {
      lang: "en",
      docTitle: "Qingshen · cleaner-production audit assistant",
      title: "Qingshen",
      sub: "· cleaner-production audit assistant",
      restart: "Start over",
      restartWord: "restart",
      send: "Send",
      placeholder: "Type your answer",
      inputLabel: "Message",
      logLabel: "Conversation",
      welcome: "Hello! I am Qingshen (清审). Following your province's rules, I tell you whether your enterprise "
        + "must carry out a mandatory cleaner-production audit, with the articles that decide it and every deadline."
        + "\n\nPress “Start” or type anything to begin.",
      start: "Start",
      save: "Save",
      keyLabel: "API key",
      keyNeeded: "This server needs an API key. Enter the key your administrator gave you:",
      noKey: "No API key is configured on this server, so it cannot be used yet. Ask the administrator to set "
        + "QINGSHEN_API_KEYS, or to run it in demo mode (--demo).",
      badKey: "A valid API key is needed to go on.",
      failed: "Something went wrong. Please try again later.",
      offline: "Cannot reach the server. Check the network and try again.",
      pushTag: "New message"
    }
  };

  var log = document.getElementById("log");
  var composer = document.getElementById("composer");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var notice = document.getElementById("key-notice");
  var noticeText = document.getElementById("key-notice-text");
  var keyForm = document.getElementById("key-form");
  var keyInput = document.getElementById("key-input");
  var busy = false;
  var memory = {};
  var locale = "zh_CN";
  var keyProblem = null;

  function load(store, key) {
    try { return window[store].getItem(key); } catch (e) { return memory[key] || null; }
  }

  function save(store, key, value) {
    memory[key] = value;
    try { window[store].setItem(key, value); } catch (e) { /* private mode: keep it in memory */ }
  }

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  function userId() {
    var id = load("localStorage", USER_KEY);
    if (!id) {
      id = newId();
      save("localStorage", USER_KEY, id);
    }
    return id;
  }

  function headers() {
    var h = { "Content-Type": "application/json", "X-Qingshen-Channel": "web" };
    var key = load("sessionStorage", API_KEY);
    if (key) { h["Authorization"] = "Bearer " + key; }
    return h;
  }

  function t(name) { return WORDS[locale][name]; }

  // -- language ----------------------------------------------------------------------------------

  function localeOf(tag) {
    var value = String(tag || "").trim().toLowerCase().replace("-", "_");
    if (value === "en" || value.indexOf("en_") === 0) { return "en"; }
    if (value === "zh_cn" || value === "zh") { return "zh_CN"; }
    return null;
  }

  function applyLocale(next) {
    if (!WORDS[next]) { return; }
    locale = next;
    save("localStorage", LOCALE_KEY, next);
    document.documentElement.lang = t("lang");
    document.title = t("docTitle");
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (el) {
      el.textContent = t(el.dataset.i18n);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-placeholder]"), function (el) {
      el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-aria]"), function (el) {
      el.setAttribute("aria-label", t(el.dataset.i18nAria));
    });
    Array.prototype.forEach.call(document.querySelectorAll(".msg.push .tag"), function (el) {
      el.textContent = t("pushTag");
    });
    if (keyProblem !== null) { showKeyNotice(keyProblem); }
  }

  // -- links -------------------------------------------------------------------------------------

  // http(s) addresses up to whitespace, quotes, angle brackets or CJK punctuation.
  var URL_RE = /https?:\/\/[^\s<>"'`，。；：！？、（）【】「」《》]+/gi;

  function trimUrl(raw) {
    var url = raw.replace(/[.,;:!?'"\]}]+$/, "");
    while (url.charAt(url.length - 1) === ")" && url.split("(").length < url.split(")").length) {
      url = url.slice(0, -1);
    }
    return url;
  }

  function shortUrl(u) {
    var path = u.pathname === "/" ? "" : u.pathname;
    var whole = u.host + path + u.search;
    if (whole.length <= 40) { return whole; }
    var parts = u.pathname.split("/").filter(Boolean);
    var last = parts.length ? parts[parts.length - 1] : "";
    if (last.length > 18) { last = last.slice(0, 6) + "…" + last.slice(-8); }
    return u.host + (parts.length > 1 ? "/…/" : "/") + last + (u.search ? "?…" : "");
  }

  function linkTo(raw) {
    var u;
    try { u = new URL(raw); } catch (e) { return null; }
    if (u.protocol !== "http:" && u.protocol !== "https:") { return null; }
    var a = document.createElement("a");
    a.href = u.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.title = u.href;
    a.textContent = shortUrl(u);
    return a;
  }

  // The text as text nodes, with every http(s) address an <a> (never parsed as HTML).
  function fillWithLinks(el, text) {
    var at = 0;
    var m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      var url = trimUrl(m[0]);
      var a = url ? linkTo(url) : null;
      if (!a) { continue; }
      el.appendChild(document.createTextNode(text.slice(at, m.index)));
      el.appendChild(a);
      at = m.index + url.length;
      URL_RE.lastIndex = at;
    }
    el.appendChild(document.createTextNode(text.slice(at)));
  }

  // -- the log -----------------------------------------------------------------------------------

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // After a batch of bot messages: the end of the log if the batch fits, else the start of the batch
  // (or of its first long message), so that a long verdict is read from its first line.
  function reveal(batch) {
    if (batch.length === 0) { scrollDown(); return; }
    var view = log.clientHeight;
    var base = log.getBoundingClientRect().top - log.scrollTop;
    function topOf(el) { return el.getBoundingClientRect().top - base; }
    var start = topOf(batch[0]);
    if (log.scrollHeight - start + 16 <= view) { scrollDown(); return; }
    for (var i = 0; i < batch.length; i++) {
      if (batch[i].offsetHeight > view * 0.5) {
        if (topOf(batch[i]) - start > view * 0.4) { start = topOf(batch[i]); }
        break;
      }
    }
    log.scrollTop = Math.max(0, start - 12);
  }

  function place(msg) {
    var typing = log.querySelector(".msg.typing");
    if (typing && !msg.classList.contains("typing")) { log.insertBefore(msg, typing); } else { log.appendChild(msg); }
  }

  function addMessage(who, text) {
    var msg = document.createElement("div");
    msg.className = "msg " + who;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    msg.appendChild(bubble);
    place(msg);
    return msg;
  }

  function addReply(reply, pushId) {
    var msg = document.createElement("div");
    msg.className = "msg bot";
    if (pushId !== undefined) {
      msg.classList.add("push");
      msg.dataset.push = String(pushId);
      var tag = document.createElement("div");
      tag.className = "tag";
      tag.textContent = t("pushTag");
      msg.appendChild(tag);
    }
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    fillWithLinks(bubble, String(reply.text || ""));
    msg.appendChild(bubble);
    var choices = Array.isArray(reply.choices) ? reply.choices : [];
    if (choices.length > 0) {
      var row = document.createElement("div");
      row.className = "choices";
      choices.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "choice";
        b.textContent = String(c.label);
        b.dataset.choice = String(c.id);
        row.appendChild(b);
      });
      msg.appendChild(row);
    }
    place(msg);
    return msg;
  }

  // The conversation's own questions are answered once: sending anything disables their buttons. A push's
  // buttons (e.g. "Audit started" in a reminder) stay usable until one of them is picked.
  function disableChoices(picked) {
    var own = picked ? picked.closest(".msg") : null;
    Array.prototype.forEach.call(log.querySelectorAll("button.choice"), function (b) {
      var msg = b.closest(".msg");
      if (msg && msg.classList.contains("push") && msg !== own) { return; }
      b.disabled = true;
      if (b === picked) { b.classList.add("picked"); }
    });
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
  }

  function showKeyNotice(error) {
    keyProblem = error || {};
    notice.hidden = false;
    if (error && error.error === "no_api_key_configured") {
      noticeText.textContent = t("noKey");
      keyForm.hidden = true;
    } else {
      noticeText.textContent = t("keyNeeded");
      keyForm.hidden = false;
    }
  }

  function hideKeyNotice() {
    keyProblem = null;
    notice.hidden = true;
  }

  function errorOf(data) {
    return data && data.error && typeof data.error === "object" ? data.error : null;
  }

  function send(body, shown, picked) {
    if (busy) { return; }
    disableChoices(picked);
    addMessage("user", shown);
    scrollDown();
    setBusy(true);
    var typing = addMessage("bot typing", "…");
    scrollDown();
    var batch = [];
    body.user_id = userId();
    fetch(API, { method: "POST", headers: headers(), body: JSON.stringify(body), credentials: "same-origin" })
      .then(function (res) {
        var language = localeOf(res.headers.get("Content-Language"));
        return res.json().catch(function () { return null; }).then(function (data) {
          return { status: res.status, ok: res.ok, data: data, locale: language };
        });
      })
      .then(function (r) {
        var err = errorOf(r.data);
        if (r.locale) { applyLocale(r.locale); }
        if (r.status === 401) {
          showKeyNotice(err);
          batch.push(addMessage("bot error", t("badKey")));
        } else if (!r.ok || !r.data || !Array.isArray(r.data.replies)) {
          batch.push(addMessage("bot error", (err && err.message) || t("failed")));
        } else {
          r.data.replies.forEach(function (reply) { batch.push(addReply(reply)); });
        }
      })
      .catch(function () {
        batch.push(addMessage("bot error", t("offline")));
      })
      .then(function () {
        typing.remove();
        setBusy(false);
        reveal(batch);
        input.focus({ preventScroll: true });
      });
  }

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || busy) { return; }
    input.value = "";
    send({ text: text }, text);
  });

  log.addEventListener("click", function (e) {
    var b = e.target.closest("button.choice");
    if (!b || b.disabled || busy) { return; }
    if (b.dataset.choice !== undefined) {
      send({ choice: b.dataset.choice }, b.textContent, b);
    } else {
      if (b.dataset.bind && input.value === b.dataset.text) { input.value = ""; }  // sent by the button instead
      send({ text: b.dataset.text }, b.dataset.bind ? b.dataset.text : b.textContent, b);
    }
  });

  document.getElementById("restart").addEventListener("click", function () {
    send({ text: t("restartWord") }, t("restart"));
  });

  keyForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var key = keyInput.value.trim();
    if (!key) { return; }
    save("sessionStorage", API_KEY, key);
    keyInput.value = "";
    checkAccess();
  });

  // -- the live inbox --------------------------------------------------------------------------------

  var inbox = (function () {
    var running = false;
    var stopped = false;
    var lastEventId = null;
    var retry = 3000;
    var failures = 0;
    var unacked = [];
    var acking = false;

    function base() { return "/api/v1/users/" + encodeURIComponent(userId()) + "/inbox"; }

    function seenIds() {
      try { return JSON.parse(load("localStorage", SEEN_KEY) || "[]"); } catch (e) { return []; }
    }

    function remember(id) {
      var ids = seenIds();
      ids.push(id);
      save("localStorage", SEEN_KEY, JSON.stringify(ids.slice(-SEEN_LIMIT)));
    }

    function acknowledge(id) {
      if (unacked.indexOf(id) < 0) { unacked.push(id); }
      flush();
    }

    function flush() {
      if (acking || unacked.length === 0) { return; }
      acking = true;
      var ids = unacked.slice(0, 100);
      fetch(base() + "/ack", { method: "POST", headers: headers(), body: JSON.stringify({ ids: ids }),
                               credentials: "same-origin" })
        .then(function (res) {
          if (res.ok) { unacked = unacked.filter(function (id) { return ids.indexOf(id) < 0; }); }
        })
        .catch(function () { /* kept: sent again with the next acknowledgement or connection */ })
        .then(function () {
          acking = false;
          if (unacked.length && unacked.some(function (id) { return ids.indexOf(id) < 0; })) { flush(); }
        });
    }

    function onEvent(name, id, data) {
      var value;
      try { value = JSON.parse(data); } catch (e) { return; }
      if (name === "locale") {
        var next = localeOf(value && value.locale);
        if (next) { applyLocale(next); }
        return;
      }
      if (name !== "push" || !value || typeof value.id !== "number") { return; }
      lastEventId = value.id;
      if (seenIds().indexOf(value.id) < 0) {
        remember(value.id);
        reveal([addReply(value, value.id)]);
      }
      acknowledge(value.id);
    }

    // A minimal text/event-stream reader (EventSource cannot send our headers).
    function read(body) {
      var reader = body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var name = "message";
      var id = null;
      var data = [];
      function line(text) {
        if (text === "") {
          if (data.length) { onEvent(name, id, data.join("\n")); }
          name = "message"; data = [];
          return;
        }
        if (text.charAt(0) === ":") { return; }
        var colon = text.indexOf(":");
        var field = colon < 0 ? text : text.slice(0, colon);
        var value = colon < 0 ? "" : text.slice(colon + 1).replace(/^ /, "");
        if (field === "event") { name = value; }
        else if (field === "data") { data.push(value); }
        else if (field === "id") { id = value; }
        else if (field === "retry" && /^\d+$/.test(value)) { retry = Math.max(1000, parseInt(value, 10)); }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { return; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var lines = buffer.split(/\r\n|\r|\n/);
          buffer = lines.pop();
          lines.forEach(line);
          return pump();
        });
      }
      return pump();
    }

    function connect() {
      if (stopped) { running = false; return; }
      var h = headers();
      delete h["Content-Type"];
      h["Accept"] = "text/event-stream";
      if (lastEventId !== null) { h["Last-Event-ID"] = String(lastEventId); }
      fetch(base() + "/events", { headers: h, credentials: "same-origin", cache: "no-store" })
        .then(function (res) {
          if (res.status === 204) { stopped = true; return null; }  // no live inbox on this server
          if (res.status === 401) {
            stopped = true;
            return res.json().catch(function () { return null; }).then(function (d) { showKeyNotice(errorOf(d)); });
          }
          if (!res.ok || !res.body) { throw new Error("inbox: HTTP " + res.status); }
          failures = 0;
          flush();
          return read(res.body);
        })
        .then(function () { later(0); }, function () { failures += 1; later(failures); });
    }

    function later(failed) {
      var wait = failed ? Math.min(30000, retry * Math.pow(2, failed - 1)) : 500;
      window.setTimeout(connect, wait);
    }

    return {
      start: function () {
        if (running) { return; }
        running = true;
        stopped = false;
        connect();
      }
    };
  })();

  function checkAccess() {
    fetch("/api/v1/ping", { headers: headers(), credentials: "same-origin" })
      .then(function (res) {
        if (res.status !== 401) { hideKeyNotice(); inbox.start(); return null; }
        return res.json().catch(function () { return null; }).then(function (data) {
          showKeyNotice(errorOf(data));
        });
      })
      .catch(function () { inbox.start(); /* it retries until the server answers; a message says so too */ });
  }

  // An invitation sheet's QR code opens the page as /?bind=<code>: the start button and the input then send
  // 绑定 <code> (kept by the bot until consent is given, then redeemed). The code leaves the address bar.
  function offerBind() {
    var code;
    try { code = new URLSearchParams(window.location.search).get("bind"); } catch (e) { return; }
    code = String(code || "").trim().toUpperCase();
    if (!/^[A-Z0-9]{4}-?[A-Z0-9]{4}$/.test(code)) { return; }
    var text = (locale === "en" ? "bind " : "绑定 ") + code.replace("-", "");
    var start = document.querySelector("#welcome button.choice[data-text]");
    if (start) { start.dataset.text = text; start.dataset.bind = code; }
    input.value = text;
    try { window.history.replaceState(null, "", window.location.pathname); } catch (e) { /* keep it shown */ }
  }

  userId();  // chosen on the first visit and kept
  applyLocale(WORDS[load("localStorage", LOCALE_KEY)] ? load("localStorage", LOCALE_KEY) : "zh_CN");
  offerBind();
  checkAccess();
})();
