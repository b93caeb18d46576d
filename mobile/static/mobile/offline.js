// The phone page with a weak or missing signal (no build step; see mobile/views/offline.py).
// A form marked data-offline that cannot reach the server (the phone is offline, or the
// request fails on the network) is kept on the phone, in localStorage, with its fields and
// its Idempotency-Key, and sent again in order when the network is back. The server applies
// a key once (mobile.pages.run_once), so sending again never applies an action twice. The
// server answers as it answers the page: a redirect when done, the page with the refusal
// beside the form (class errorlist) when refused. A refusal is kept and shown until the
// manager dismisses it, named by the form's data-offline value (what it acts on) or else the
// page's title, and its button. The words shown come from the page (#outbox-strings, gettext).
(function () {
  "use strict";
  var QUEUE = "m-outbox", REFUSED = "m-refused", SENT = "m-sent";
  var sending = false, submitter = null, retry = null;

  function box() { return document.getElementById("outbox"); }
  function words() {
    var node = document.getElementById("outbox-strings");
    return node ? JSON.parse(node.textContent) : {};
  }
  function load(name) {
    try { return JSON.parse(localStorage.getItem(name)) || []; } catch (e) { return []; }
  }
  function save(name, items) { localStorage.setItem(name, JSON.stringify(items)); }
  // Kept per person: a phone shared by two managers sends each one's actions as them.
  function mine(items) { var b = box(); return items.filter(function (i) { return b && i.user === b.dataset.user; }); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  // Where a form posts. Not form.action: the page's buttons are named "action", which hides it.
  function target(form) { return new URL(form.getAttribute("action") || location.href, location.href).href; }

  function render() {
    var b = box();
    if (!b) return;
    var w = words(), queue = mine(load(QUEUE)), refused = mine(load(REFUSED));
    var keys = queue.map(function (i) { return i.key; });
    b.textContent = "";
    if (queue.length) {
      b.appendChild(el("p", "waiting", w.waiting.replace("{count}", queue.length) + (sending ? " · " + w.sending : "")));
    }
    var sent = sessionStorage.getItem(SENT);
    if (sent) {
      sessionStorage.removeItem(SENT);
      b.appendChild(el("p", "sent", w.sent.replace("{count}", sent)));
    }
    refused.forEach(function (item) {
      var note = el("div", "refused");
      note.setAttribute("role", "alert");
      note.appendChild(el("strong", "", w.refused.replace("{what}", item.what).replace("{action}", item.action)));
      note.appendChild(el("p", "", item.reason));
      var dismiss = el("button", "secondary", w.dismiss);
      dismiss.type = "button";
      dismiss.addEventListener("click", function () {
        save(REFUSED, load(REFUSED).filter(function (i) { return i.key !== item.key || i.user !== item.user; }));
        render();
      });
      note.appendChild(dismiss);
      b.appendChild(note);
    });
    // A form whose action waits is not sent twice (its key is taken): shown as waiting.
    document.querySelectorAll("form[data-offline]").forEach(function (form) {
      var key = form.elements.idempotency_key, waits = key && keys.indexOf(key.value) >= 0;
      form.classList.toggle("queued", !!waits);
      form.querySelectorAll("button").forEach(function (button) { button.disabled = !!waits; });
      if (waits && !form.querySelector(".queued-note")) form.prepend(el("p", "queued-note", w.queued));
    });
  }

  function keep(form, button) {
    var data = new FormData(form);
    if (button && button.name) data.append(button.name, button.value);
    var fields = [];
    data.forEach(function (value, name) { if (typeof value === "string") fields.push([name, value]); });
    var key = data.get("idempotency_key"), queue = load(QUEUE), user = box().dataset.user;
    if (!queue.some(function (i) { return i.key === key && i.user === user; })) {
      queue.push({
        user: user, key: key, url: target(form), fields: fields,
        what: form.dataset.offline || document.title,
        action: button ? button.textContent.trim() : "",
      });
      save(QUEUE, queue);
    }
    render();
    var note = box().querySelector(".waiting");
    if (note) note.textContent += " · " + words().kept;
  }

  // Sends one kept action: "sent", "refused" (kept as a refusal), or "later" (no network,
  // a server error, signed out: it stays in the queue).
  async function send(item) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) {
      // The CSRF token of this page: the one kept may be from before a new sign-in.
      body.append(pair[0], pair[0] === "csrfmiddlewaretoken" && token ? token.value : pair[1]);
    });
    var response;
    try {
      response = await fetch(item.url, { method: "POST", body: body, credentials: "same-origin" });
    } catch (e) {
      return "later";
    }
    if (response.redirected && new URL(response.url).pathname === box().dataset.login) return "later";
    if (response.ok) return "sent";
    if (response.status >= 500 || response.status === 429) return "later";
    var page = new DOMParser().parseFromString(await response.text(), "text/html");
    var reasons = Array.from(page.querySelectorAll("main .errorlist li"), function (li) { return li.textContent.trim(); });
    if (!reasons.length) {
      var text = page.querySelector("main p") || page.querySelector("h1");
      reasons = [text ? text.textContent.trim() : String(response.status)];
    }
    var refused = load(REFUSED);
    refused.push({ user: item.user, key: item.key, what: item.what, action: item.action,
      reason: reasons.filter(function (r, i) { return reasons.indexOf(r) === i; }).join(" ") });
    save(REFUSED, refused);
    return "refused";
  }

  async function replay() {
    var b = box();
    if (sending || !b || !navigator.onLine || !mine(load(QUEUE)).length) return;
    sending = true;
    render();
    var sent = [], outcome = "sent";
    try {
      for (;;) {
        var item = mine(load(QUEUE))[0];
        if (!item) break;
        outcome = await send(item);
        if (outcome === "later") break;
        save(QUEUE, load(QUEUE).filter(function (i) { return i.key !== item.key || i.user !== item.user; }));
        if (outcome === "sent") sent.push(new URL(item.url, location.href).pathname);
      }
    } finally {
      sending = false;
    }
    clearTimeout(retry);
    if (outcome === "later") retry = setTimeout(replayOnce, 30000);
    if (sent.length) {
      sessionStorage.setItem(SENT, String(sent.length));
      // What the manager looks at has changed: show it as it is now.
      if (sent.indexOf(location.pathname) >= 0 || location.pathname === b.dataset.today) {
        location.reload();
        return;
      }
    }
    render();
  }
  // One sender at a time across the page's tabs (the server would apply a key once anyway).
  function replayOnce() {
    if (navigator.locks) navigator.locks.request(QUEUE, { ifAvailable: true }, function (lock) { return lock && replay(); });
    else replay();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[type=submit], button:not([type])");
    if (button && button.form) submitter = button;
  }, true);
  // Capturing on the document runs before htmx's own listener on the form: offline, htmx
  // never sees the submit.
  document.addEventListener("submit", function (event) {
    var form = event.target, button = event.submitter || submitter;
    submitter = button;
    if (box() && new URL(target(form)).pathname === box().dataset.logout) {
      if (window.caches) caches.delete("m-pages"); // signing out: the pages kept were this manager's
      return;
    }
    if (!form.hasAttribute("data-offline") || navigator.onLine || !box()) return;
    event.preventDefault();
    event.stopPropagation();
    keep(form, button);
  }, true);
  // Online but the request never got an answer (a weak signal): kept, and sent again with
  // the same key, so it applies once whether or not the first one arrived.
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form[data-offline]");
    if (form && box()) keep(form, submitter && submitter.form === form ? submitter : null);
  });
  document.addEventListener("htmx:afterSettle", render);
  window.addEventListener("online", replayOnce);

  function start() {
    var b = box();
    if (!b) return;
    if ("serviceWorker" in navigator) navigator.serviceWorker.register(b.dataset.sw).catch(function () {});
    render();
    replayOnce();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
