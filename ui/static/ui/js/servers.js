/* The project's servers, kept live: one full listing, then `changes-since` polls.
 *
 * Cyc.store holds every visible server by id. After the first GET /servers/detail, each
 * poll asks only for what changed since the last answer (the API's own clock, from the
 * response's Date header, minus an overlap so a commit that lands late is not missed);
 * a server answered as DELETED leaves the store. Views subscribe and redraw only the rows
 * that changed. Polls come every 2 s while a server is busy, every 6 s otherwise. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;
  var FAST_MS = 2000, SLOW_MS = 6000, OVERLAP_MS = 5000, MAX_BACKOFF_MS = 60000;
  var STEADY = {ACTIVE: 1, SHUTOFF: 1, ERROR: 1, DELETED: 1, SUSPENDED: 1, PAUSED: 1, SHELVED_OFFLOADED: 1, VERIFY_RESIZE: 1};

  var store = {
    servers: {},
    flavors: {},
    images: {},
    since: null,
    loaded: false,
    timer: null,
    generation: 0,
    failures: 0,
    listeners: $.Callbacks(),
    error: null,
    lastUpdate: null
  };

  /* A performance mark (the browser tests read them: first list render, render time). */
  function mark(name) {
    if (window.performance && performance.mark) { performance.mark(name); }
  }

  /* Image ids compare without dashes or case (Nova and Glance spell a UUID differently). */
  function key(id) { return String(id).replace(/-/g, "").toLowerCase(); }

  function busy(server) {
    return !STEADY[server.status] || !!server["OS-EXT-STS:task_state"];
  }

  function cursorFrom(xhr, servers) {
    var date = xhr && xhr.getResponseHeader ? Date.parse(xhr.getResponseHeader("Date") || "") : NaN;
    var latest = NaN;
    $.each(servers, function (i, s) {
      var u = Date.parse(s.updated || "");
      if (!isNaN(u) && (isNaN(latest) || u > latest)) { latest = u; }
    });
    var base = !isNaN(date) ? date : latest;
    if (isNaN(base)) { return store.since; }
    return new Date(base - OVERLAP_MS).toISOString().replace(/\.\d+Z$/, "Z");
  }

  /* GET a servers listing, following pagination; resolves (servers, first response). */
  function fetch(query) {
    var deferred = $.Deferred();
    var all = [];
    var firstXhr = null;
    function page(path) {
      var promise = path.indexOf("http") === 0 ? api.absolute("compute", path) : api.call("compute", "GET", path);
      promise.done(function (data, xhr) {
        firstXhr = firstXhr || xhr;
        all = all.concat(data.servers || []);
        var next = null;
        $.each(data.servers_links || [], function (i, l) { if (l.rel === "next") { next = l.href; } });
        if (next) { page(next); } else { deferred.resolve(all, firstXhr); }
      }).fail(function (e) { deferred.reject(e); });
    }
    page("/servers/detail" + query);
    return deferred.promise();
  }

  function apply(servers) {
    var changed = [], removed = [];
    $.each(servers, function (i, s) {
      if (s.status === "DELETED") {
        if (store.servers[s.id]) { removed.push(store.servers[s.id]); delete store.servers[s.id]; }
      } else {
        var old = store.servers[s.id];
        if (!old || old.updated !== s.updated || old.status !== s.status || old["OS-EXT-STS:task_state"] !== s["OS-EXT-STS:task_state"] || JSON.stringify(old.addresses) !== JSON.stringify(s.addresses) || old.name !== s.name) {
          store.servers[s.id] = s;
          changed.push(s);
        }
      }
    });
    store.lastUpdate = new Date();
    store.listeners.fire({changed: changed, removed: removed, full: false});
  }

  function schedule() {
    clearTimeout(store.timer);
    var anyBusy = false;
    $.each(store.servers, function (id, s) { if (busy(s)) { anyBusy = true; return false; } });
    var wait = store.failures ? Math.min(MAX_BACKOFF_MS, FAST_MS * Math.pow(2, store.failures)) : (anyBusy ? FAST_MS : SLOW_MS);
    store.timer = setTimeout(poll, wait);
  }

  function poll() {
    var generation = store.generation;
    var query = store.since ? "?changes-since=" + encodeURIComponent(store.since) : "";
    fetch(query).done(function (servers, xhr) {
      if (generation !== store.generation) { return; }
      store.failures = 0;
      store.error = null;
      store.since = cursorFrom(xhr, servers) || store.since;
      apply(servers);
      schedule();
    }).fail(function (error) {
      if (generation !== store.generation) { return; }
      store.failures += 1;
      store.error = error.message;
      store.listeners.fire({changed: [], removed: [], full: false});
      if (error.status !== 401) { schedule(); }
    });
  }

  /* First full listing (and the flavor and image names), then the polls. */
  function start() {
    stop();
    var generation = store.generation;
    var ignore = function () { return $.Deferred().resolve().promise(); };
    var flavors = api.call("compute", "GET", "/flavors/detail").then(function (d) {
      $.each(d.flavors || [], function (i, f) { store.flavors[f.id] = f; });
    }, ignore);
    var imageList = api.has("image") ? api.listAll("image", "/v2/images", "images", "next")
      : api.call("compute", "GET", "/images/detail").then(function (d) { return d.images; });
    var images = imageList.then(function (list) { $.each(list || [], function (i, im) { store.images[key(im.id)] = im; }); }, ignore);
    var first = null, firstXhr = null;
    var servers = fetch("").done(function (list, xhr) { first = list; firstXhr = xhr; });
    return $.when(servers, flavors, images).done(function () {
      if (generation !== store.generation) { return; }
      store.servers = {};
      $.each(first, function (i, s) { if (s.status !== "DELETED") { store.servers[s.id] = s; } });
      store.loaded = true;
      store.lastUpdate = new Date();
      store.since = cursorFrom(firstXhr, first);
      mark("cyclades:servers-loaded");
      store.listeners.fire({changed: [], removed: [], full: true});
      schedule();
    }).fail(function (error) {
      if (generation !== store.generation) { return; }
      store.error = error.message;
      store.failures += 1;
      store.listeners.fire({changed: [], removed: [], full: true});
      if (error.status !== 401) { setTimeout(function () { if (generation === store.generation) { start(); } }, 5000); }
    });
  }

  function stop() {
    clearTimeout(store.timer);
    store.generation += 1;
    store.servers = {};
    store.flavors = {};
    store.images = {};
    store.since = null;
    store.loaded = false;
    store.failures = 0;
    store.error = null;
  }

  /* Ask for the changes now (after an action), instead of at the next tick. */
  function refreshSoon() {
    clearTimeout(store.timer);
    store.timer = setTimeout(poll, 300);
  }

  function statusText(s) {
    var task = s["OS-EXT-STS:task_state"];
    return task ? s.status + " (" + task + ")" : s.status;
  }

  function addressText(s) {
    var out = [];
    $.each(s.addresses || {}, function (net, list) {
      $.each(list, function (i, a) { out.push(a.addr); });
    });
    return out.join(", ");
  }

  function flavorName(s) {
    var f = s.flavor || {};
    if (f.original_name) { return f.original_name; }
    return store.flavors[f.id] ? store.flavors[f.id].name : (f.id || "");
  }

  function imageName(s) {
    var im = s.image;
    if (!im || !im.id) { return ""; }
    var known = store.images[key(im.id)];
    return known ? known.name : im.id;
  }

  function sorted() {
    var list = $.map(store.servers, function (s) { return s; });
    list.sort(function (a, b) { return (b.created || "").localeCompare(a.created || "") || a.name.localeCompare(b.name); });
    return list;
  }

  /* One row, built with the DOM directly: a list of 1,000 servers draws in one go. */
  function rowFor(s) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-id", s.id);
    tr.className = "server status-" + s.status.toLowerCase();
    function cell(label, text, node) {
      var td = document.createElement("td");
      td.setAttribute("data-label", label);
      if (node) { td.appendChild(node); } else { td.textContent = text; }
      tr.appendChild(td);
      return td;
    }
    var link = document.createElement("a");
    link.href = "#/servers/" + encodeURIComponent(s.id);
    link.textContent = s.name;
    link.className = "server-name";
    cell(t("common.name"), "", link);
    var status = document.createElement("span");
    status.className = "status status-" + s.status.toLowerCase();
    status.textContent = statusText(s);
    cell(t("common.status"), "", status).className = "server-status";
    cell(t("servers.addresses"), addressText(s));
    cell(t("servers.flavor"), flavorName(s));
    cell(t("servers.image"), imageName(s));
    var actions = document.createElement("div");
    actions.className = "row-actions";
    $.each(Cyc.actions.quickButtons(s), function (i, btn) { actions.appendChild(btn); });
    cell(t("common.actions"), "", actions);
    return tr;
  }

  function liveText() {
    if (store.error) { return t("servers.liveError", {message: store.error}); }
    return store.lastUpdate ? t("servers.live", {time: store.lastUpdate.toLocaleTimeString()}) : "";
  }

  function view() {
    var main = ui.page(t("servers.title"), [
      Cyc.app.can("create") ? ui.el("a", {href: "#/create", cls: "button primary", id: "new-server", text: t("nav.create")}) : null
    ]);
    var live = ui.el("p", {cls: "live", id: "live", role: "status", "aria-live": "polite"});
    var count = ui.el("p", {cls: "count", id: "server-count"});
    var holder = ui.el("div", {id: "server-list"});
    main.append(live, count, holder);
    holder.on("click", "button[data-action]", function () {
      var server = store.servers[$(this).closest("tr").attr("data-id")];
      if (server) { Cyc.actions.perform(server, $(this).attr("data-action")); }
    });
    var tbody = null;

    function drawAll() {
      holder.empty();
      var list = sorted();
      if (!store.loaded) {
        holder.append(store.error ? ui.el("p", {cls: "field-error", text: store.error}) : ui.loading());
        tbody = null;
        return;
      }
      if (!list.length) {
        holder.append(ui.el("p", {cls: "empty", id: "no-servers", text: t("servers.empty")}));
        tbody = null;
        mark("cyclades:servers-rendered");
        return;
      }
      var wrap = ui.table(t("servers.title"), [t("common.name"), t("common.status"), t("servers.addresses"), t("servers.flavor"), t("servers.image"), t("common.actions")], [], {cls: "servers"});
      tbody = wrap.find("tbody")[0];
      var fragment = document.createDocumentFragment();
      for (var i = 0; i < list.length; i++) { fragment.appendChild(rowFor(list[i])); }
      tbody.appendChild(fragment);
      holder.append(wrap);
      mark("cyclades:servers-rendered");
    }

    function update(change) {
      live.text(liveText());
      count.text(t("servers.count", {count: Object.keys(store.servers).length}));
      if (change.full || !tbody) { drawAll(); return; }
      $.each(change.removed, function (i, s) {
        $(tbody).find("tr[data-id='" + s.id + "']").remove();
      });
      $.each(change.changed, function (i, s) {
        var old = $(tbody).find("tr[data-id='" + s.id + "']");
        var focused = old.find(":focus").length ? document.activeElement.textContent : null;
        var fresh = rowFor(s);
        if (old.length) { old.replaceWith(fresh); } else { tbody.insertBefore(fresh, tbody.firstChild); }
        if (focused) { $(fresh).find("a, button").filter(function () { return this.textContent === focused; }).first().trigger("focus"); }
      });
      if (!Object.keys(store.servers).length) { drawAll(); }
    }

    store.listeners.add(update);
    update({changed: [], removed: [], full: true});
    return function () { store.listeners.remove(update); };
  }

  Cyc.store = store;
  Cyc.servers = {start: start, stop: stop, refreshSoon: refreshSoon, view: view, statusText: statusText, flavorName: flavorName, imageName: imageName, busy: busy};
})(jQuery);
