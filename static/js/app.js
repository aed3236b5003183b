/* The instructor's phone: the visit form's helpers and the outbox that survives no signal.
 * A visit saved without a network goes into IndexedDB and is sent, once, when it returns.
 * Plain JavaScript, no library: the whole file is a few KiB. */
(function () {
  "use strict";

  var DB_NAME = "crm-outbox", STORE = "visits";

  function randomKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);  // unlike randomUUID, also there on plain-http intranets
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function localNow(kind) {
    var d = new Date(), pad = function (n) { return ("0" + n).slice(-2); };
    var day = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    return kind === "date" ? day : day + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  /* --- IndexedDB outbox ------------------------------------------------------------------ */

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  var outbox = {
    all: function () { return withStore("readonly", function (s) { return s.getAll(); }); },
    put: function (entry) { return withStore("readwrite", function (s) { s.put(entry); }); },
    remove: function (key) { return withStore("readwrite", function (s) { s.delete(key); }); }
  };

  /* Everything the form holds, files included, as plain data IndexedDB can keep. */
  function snapshot(form) {
    var fields = [], files = [];
    new FormData(form).forEach(function (value, name) {
      if (value instanceof Blob) { if (value.size) files.push({ name: name, blob: value, filename: value.name }); }
      else fields.push([name, value]);
    });
    var key = form.querySelector("[name=client_key]").value;
    var text = form.querySelector("textarea"), when = form.querySelector("[data-now]");
    var summary = text ? text.value : "";
    return { key: key, url: form.action, fields: fields, files: files, title: document.title,
             account: currentAccount(), subject: form.dataset.subject || "",
             when: when ? when.value.replace("T", " ") : "",
             summary: summary.slice(0, 40), savedAt: new Date().toISOString(), error: null };
  }

  /* Visits wait under the account that made them: another person signing in on this phone
   * never sends them. */
  function currentAccount() {
    return document.body.dataset.account || null;
  }

  function mine(entry) {
    return entry.account === currentAccount();
  }

  function freshCsrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : null;
  }

  /* One sending of a record. `pageBack`: a refusal comes back as the page with its messages
   * (the form is on screen), else as JSON (the outbox, with nobody looking at the form). */
  function send(entry, pageBack) {
    var body = new FormData(), token = freshCsrfToken();
    var headers = { Accept: "application/json" };
    if (pageBack) headers["X-Refused-As"] = "page";
    entry.fields.forEach(function (pair) {
      body.append(pair[0], pair[0] === "csrf_token" && token ? token : pair[1]);
    });
    entry.files.forEach(function (file) { body.append(file.name, file.blob, file.filename); });
    return fetch(entry.url, { method: "POST", body: body, credentials: "same-origin", headers: headers });
  }

  function messages(errors, prefix) {
    var list = [];
    Object.keys(errors || {}).forEach(function (name) {
      var value = errors[name];
      if (Array.isArray(value) && typeof value[0] === "string") list.push.apply(list, value);
      else if (Array.isArray(value)) value.forEach(function (e) { list = list.concat(messages(e, prefix)); });
      else if (value && typeof value === "object") list = list.concat(messages(value, prefix));
    });
    return list;
  }

  var syncing = false;

  /* Send every waiting visit. The server's client key makes a repeat harmless. */
  function sync() {
    if (syncing || !navigator.onLine) return Promise.resolve();
    syncing = true;
    return outbox.all().then(function (entries) {
      return entries.filter(function (e) { return mine(e) && !e.error; }).reduce(function (chain, entry) {
        return chain.then(function (go) {
          if (!go) return false;
          return send(entry).then(function (response) {
            if (response.status === 201) return outbox.remove(entry.key).then(function () { return true; });
            if (response.status === 401) { showStatus("登录已过期，请重新登录后同步。"); return false; }
            if (response.status >= 500 || response.status === 429) return false;  // the server is not ready: keep it, try later
            return response.json().catch(function () { return {}; }).then(function (data) {
              entry.error = data.errors ? messages(data.errors).join("；") : (data.error || "服务器拒绝了这条记录（" + response.status + "）");
              return outbox.put(entry).then(function () { return true; });
            });
          }, function () { return false; });  // still no network: try again later
        });
      }, Promise.resolve(true));
    }).then(render, render).then(function () { syncing = false; });
  }

  /* --- what the instructor sees -------------------------------------------------------- */

  function showStatus(text) {
    var status = document.querySelector("[data-outbox-status]");
    if (!status) return;
    status.hidden = !text;
    status.textContent = text || "";
  }

  function render() {
    return outbox.all().then(function (all) {
      var status = document.querySelector("[data-outbox-status]");
      if (!status) return;
      var entries = all.filter(mine), others = all.length - entries.length;
      status.hidden = all.length === 0;
      status.innerHTML = "";
      if (!all.length) return;
      var head = document.createElement("strong");
      head.textContent = "待同步 " + entries.length;
      status.appendChild(head);
      if (others) {
        var note = document.createElement("div");
        note.textContent = "另有 " + others + " 条是其他账号在这部手机上暂存的，请用该账号登录后同步。";
        status.appendChild(note);
      }
      entries.forEach(function (entry) {
        var line = document.createElement("div");
        line.className = entry.error ? "outbox-entry error" : "outbox-entry";
        line.textContent = describe(entry) + (entry.error ? "（" + entry.error + "）" : "");
        if (entry.error) {
          var retry = document.createElement("button"), drop = document.createElement("button");
          retry.type = drop.type = "button";
          retry.className = drop.className = "button small";
          retry.textContent = "重试";
          drop.textContent = "放弃这条";
          retry.onclick = function () { entry.error = null; outbox.put(entry).then(sync); };
          drop.onclick = function () { if (confirm("确定放弃这条未同步的记录？")) outbox.remove(entry.key).then(render); };
          line.appendChild(retry);
          line.appendChild(drop);
        }
        status.appendChild(line);
      });
    });
  }

  /* What a waiting record is, so that several can be told apart: "记走访 · 华兴电子党支部 ·
   * 2026-12-01 09:30：summary". */
  function describe(entry) {
    var parts = [entry.title.split(" · ")[0]];
    if (entry.subject) parts.push(entry.subject);
    if (entry.when) parts.push(entry.when);
    return parts.join(" · ") + (entry.summary ? "：" + entry.summary : "");
  }

  /* --- the visit form ----------------------------------------------------------------- */

  function renumber(row, index) {
    row.querySelectorAll("[name],[id],[for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(/problems-\d+-/, "problems-" + index + "-"));
      });
    });
  }

  function setUpProblems(form) {
    var add = form.querySelector("[data-add-problem]");
    if (!add) return;
    add.hidden = false;
    add.addEventListener("click", function () {
      var rows = form.querySelectorAll("[data-problem-row]"), last = rows[rows.length - 1];
      var row = last.cloneNode(true);
      row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      row.querySelectorAll("input, textarea").forEach(function (e) { e.value = ""; });
      renumber(row, rows.length);
      last.after(row);
      row.querySelector("textarea").focus();
    });
  }

  function setUpLocation(form) {
    var button = form.querySelector("[data-share-location]"), status = form.querySelector("[data-location-status]");
    if (!button || !navigator.geolocation) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("[name=latitude]").value = position.coords.latitude.toFixed(6);
        form.querySelector("[name=longitude]").value = position.coords.longitude.toFixed(6);
        form.querySelector("[name=accuracy_m]").value = Math.round(position.coords.accuracy);
        status.textContent = "已获取位置（精度约 " + Math.round(position.coords.accuracy) + " 米）";
      }, function () { status.textContent = "无法获取位置，可不填。"; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function queue(form) {
    return outbox.put(snapshot(form)).then(function () {
      location.href = form.dataset.home || "/";
    });
  }

  /* Any form a phone may send offline: a visit, a meeting, a card entry. */
  function setUpPhoneForm(form) {
    // A page served from the cache must not reuse another record's key or time.
    if (form.dataset.fresh) {
      form.querySelector("[name=client_key]").value = randomKey();
      form.querySelectorAll("[data-now]").forEach(function (input) { input.value = localNow(input.dataset.now); });
    }
    setUpProblems(form);
    setUpLocation(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      if (button.disabled) return;
      button.disabled = true;  // a double tap sends once; the key covers the rest
      if (!navigator.onLine) { queue(form); return; }
      send(snapshot(form), true).then(function (response) {
        if (response.status === 201) return response.json().then(function (data) {
          var next = new URL(data.url, location.href);
          next.searchParams.set("saved", "1");
          location.href = next.href;
        });
        // The one answer holds the page again, with each message beside its field, every value
        // and the photos kept: shown in place, never sent a second time.
        if (response.status === 422) return response.text().then(showAgain);
        if (response.status === 401) { showStatus("登录已过期，走访已暂存，请重新登录后同步。"); return queue(form); }
        return queue(form);
      }, function () { return queue(form); });
    });
  }

  /* A form the server refused, in place of the one on screen; focus on what is wrong. */
  function showAgain(html) {
    var next = new DOMParser().parseFromString(html, "text/html");
    var main = next.querySelector("main"), current = document.querySelector("main");
    if (!main || !current) { document.open(); document.write(html); document.close(); return; }
    document.title = next.title;
    current.replaceWith(document.adoptNode(main));
    setUp(main);
    if (!document.querySelector("[data-error-summary]")) window.scrollTo(0, 0);
  }

  /* The summary of a refused form is the first thing read: focus it; its links go to the field. */
  function setUpErrorSummary(root) {
    var summary = root.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.querySelectorAll("[data-error-link]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.dataset.errorLink);
        if (!target) return;
        event.preventDefault();
        target.scrollIntoView({ block: "center" });
        target.focus();
      });
    });
    summary.scrollIntoView({ block: "start" });
    summary.focus();
  }

  function setUp(root) {
    root.querySelectorAll("form[data-outbox]").forEach(setUpPhoneForm);
    setUpErrorSummary(root);
    if (root.querySelector("[data-outbox-status]")) render();
  }

  /* --- offline use ---------------------------------------------------------------------- */

  var offline = null;  // what the worker last said is kept: { total, kept, known }

  function showOffline(status) {
    var line = document.querySelector("[data-offline-status]");
    offline = status || offline;
    if (!line) return;
    line.hidden = false;
    var ready = offline && offline.known && offline.total > 0 && offline.kept === offline.total;
    line.className = "offline-status" + (ready ? " ready" : "");
    if (ready) { line.textContent = "离线可用"; return; }
    if (!offline || !offline.known) {
      line.textContent = navigator.onLine ? "正在准备离线使用…" : "离线尚不可用：联网打开一次本页后即可离线使用。";
      return;
    }
    var missing = offline.total - offline.kept;
    line.textContent = navigator.onLine
      ? "正在准备离线使用…（已存 " + offline.kept + "/" + offline.total + " 页）"
      : "离线尚未就绪：还有 " + missing + " 页没有存到手机上，联网后自动补上。";
  }

  function askWorker() {
    if (!("serviceWorker" in navigator) || !document.body.dataset.worker) return;
    navigator.serviceWorker.ready.then(function (registration) {
      showOffline(null);
      registration.active.postMessage({ type: navigator.onLine ? "refresh" : "status" });
    });
  }

  function setUpOffline() {
    if (!document.body.dataset.worker) return;
    if (!("serviceWorker" in navigator)) {  // plain http on a server's address, or an old browser
      var line = document.querySelector("[data-offline-status]");
      if (line) { line.hidden = false; line.textContent = "本浏览器或本网址（需 HTTPS）不支持离线使用：没有网络时无法打开页面。"; }
      return;
    }
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "offline-status") showOffline(event.data.status);
    });
    navigator.serviceWorker.register(document.body.dataset.worker, { scope: "/" });
    askWorker();
  }

  /* Signing out with records still waiting asks first; they stay on this phone, for this account. */
  function setUpSignOut() {
    var form = document.querySelector("form[data-signout]");
    if (!form || !currentAccount()) return;
    form.addEventListener("submit", function (event) {
      if (form.dataset.confirmed) return;
      event.preventDefault();
      outbox.all().then(function (all) {
        var waiting = all.filter(mine).length;
        if (waiting && !confirm("还有 " + waiting + " 条记录没有同步。退出后它们仍保存在这部手机上，" +
                                "下次用您的账号登录后自动发送，不会用别人的账号发送。确定退出吗？")) return;
        form.dataset.confirmed = "1";
        form.submit();
      }, function () { form.dataset.confirmed = "1"; form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    setUpOffline();
    setUpSignOut();
    document.querySelectorAll("form[data-reveal]").forEach(function (form) {  // one number, audited
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                             headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : Promise.reject(); })
          .then(function (data) { form.previousElementSibling.textContent = data.phone; form.remove(); })
          .catch(function () { form.submit(); });
      });
    });
    // A long select (the report picker's 136 reports): typing in the search box beside it
    // leaves the options that contain the text, and chooses the first of them.
    document.querySelectorAll("[data-filters-select]").forEach(function (box) {
      var select = document.getElementById(box.dataset.filtersSelect);
      if (!select) return;
      box.addEventListener("input", function () {
        var text = box.value.trim(), first = null;
        Array.prototype.forEach.call(select.options, function (option) {
          var shown = !text || option.text.indexOf(text) !== -1;
          option.hidden = !shown;
          if (shown && !first) first = option;
        });
        Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
          group.hidden = !group.querySelector("option:not([hidden])");
        });
        if (first && select.selectedOptions[0] && select.selectedOptions[0].hidden) first.selected = true;
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {  // no inline script: CSP
      button.addEventListener("click", function () { window.print(); });
    });
    if (document.querySelector("[data-outbox-status]")) sync();
  });
  window.addEventListener("online", function () { sync(); askWorker(); });
  window.addEventListener("offline", function () { showOffline(null); });
  setInterval(function () {
    sync();
    if (navigator.onLine && offline && offline.kept < offline.total) askWorker();
  }, 30000);
})();
