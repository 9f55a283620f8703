// 清审 web chat. Talks only to our own API; every text is set with textContent, never as HTML.
"use strict";

(function () {
  var API = "/api/v1/messages";
  var USER_KEY = "qingshen.user_id";
  var API_KEY = "qingshen.api_key";

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

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(who, text) {
    var msg = document.createElement("div");
    msg.className = "msg " + who;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    msg.appendChild(bubble);
    log.appendChild(msg);
    scrollDown();
    return msg;
  }

  function addReply(reply) {
    var msg = addMessage("bot", String(reply.text || ""));
    var choices = Array.isArray(reply.choices) ? reply.choices : [];
    if (choices.length === 0) { return; }
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
    scrollDown();
  }

  function disableChoices(picked) {
    var buttons = log.querySelectorAll("button.choice");
    Array.prototype.forEach.call(buttons, function (b) {
      b.disabled = true;
      if (b === picked) { b.classList.add("picked"); }
    });
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
  }

  function showKeyNotice(error) {
    notice.hidden = false;
    if (error && error.error === "no_api_key_configured") {
      noticeText.textContent = "此服务器尚未配置 API 密钥，暂时无法使用。请联系管理员设置 QINGSHEN_API_KEYS，"
        + "或以演示模式（--demo）运行。";
      keyForm.hidden = true;
    } else {
      noticeText.textContent = "此服务器需要 API 密钥才能使用。请输入管理员提供的密钥：";
      keyForm.hidden = false;
    }
  }

  function errorOf(data) {
    return data && data.error && typeof data.error === "object" ? data.error : null;
  }

  function send(body, shown, picked) {
    if (busy) { return; }
    disableChoices(picked);
    addMessage("user", shown);
    setBusy(true);
    var typing = addMessage("bot typing", "…");
    body.user_id = userId();
    fetch(API, { method: "POST", headers: headers(), body: JSON.stringify(body), credentials: "same-origin" })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (data) {
          return { status: res.status, ok: res.ok, data: data };
        });
      })
      .then(function (r) {
        var err = errorOf(r.data);
        if (r.status === 401) {
          showKeyNotice(err);
          addMessage("bot error", "需要有效的 API 密钥才能继续。");
        } else if (!r.ok || !r.data || !Array.isArray(r.data.replies)) {
          addMessage("bot error", (err && err.message) || "出错了，请稍后再试。");
        } else {
          r.data.replies.forEach(addReply);
        }
      })
      .catch(function () {
        addMessage("bot error", "无法连接服务器，请检查网络后重试。");
      })
      .then(function () {
        typing.remove();
        setBusy(false);
        input.focus();
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
      send({ text: b.dataset.text }, b.textContent, b);
    }
  });

  document.getElementById("restart").addEventListener("click", function () {
    send({ text: "重新开始" }, "重新开始");
  });

  keyForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var key = keyInput.value.trim();
    if (!key) { return; }
    save("sessionStorage", API_KEY, key);
    keyInput.value = "";
    checkAccess();
  });

  function checkAccess() {
    fetch("/api/v1/ping", { headers: headers(), credentials: "same-origin" })
      .then(function (res) {
        if (res.status !== 401) { notice.hidden = true; return null; }
        return res.json().catch(function () { return null; }).then(function (data) {
          showKeyNotice(errorOf(data));
        });
      })
      .catch(function () { /* the first message will say so */ });
  }

  checkAccess();
})();
