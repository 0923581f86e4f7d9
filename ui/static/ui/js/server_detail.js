/* Server actions (start, stop, reboot, resize and its confirm/revert, rebuild, rename, delete,
 * console) and the details page (overview, addresses, volumes, the action log).
 * Which actions are offered follows the server's status; the API has the last word and its
 * refusal is shown in its own words. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;

  function post(server, body) {
    return api.call("compute", "POST", "/servers/" + encodeURIComponent(server.id) + "/action", body);
  }

  function done(label, server) {
    return function () {
      ui.notice(t("action.accepted", {action: label, name: server.name}));
      Cyc.servers.refreshSoon();
    };
  }

  function fail(label, server) {
    return ui.failed(function (message) { return t("action.failed", {action: label, name: server.name, message: message}); });
  }

  function flavorChoices(current) {
    var list = $.map(Cyc.store.flavors, function (f) { return f; });
    list.sort(function (a, b) { return a.ram - b.ram || a.name.localeCompare(b.name); });
    return $.map(list, function (f) {
      return {value: f.id, label: t("wizard.flavorText", {name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk}), selected: f.id === current};
    });
  }

  function imageChoices() {
    return $.map(Cyc.store.images, function (im) { return {value: im.id, label: im.name || im.id}; });
  }

  var ACTIONS = {
    start: {label: "action.start", when: ["SHUTOFF"], run: function (s) { return post(s, {"os-start": null}); }},
    stop: {label: "action.stop", when: ["ACTIVE"], confirm: "action.confirmStop", run: function (s) { return post(s, {"os-stop": null}); }},
    reboot: {label: "action.reboot", when: ["ACTIVE"], run: function (s) { return post(s, {reboot: {type: "SOFT"}}); }},
    hardReboot: {label: "action.hardReboot", when: ["ACTIVE", "SHUTOFF", "ERROR", "REBOOT"], run: function (s) { return post(s, {reboot: {type: "HARD"}}); }},
    resize: {label: "action.resize", when: ["ACTIVE", "SHUTOFF"], ask: function (s) {
      return ui.dialog(t("action.resize"), ui.field("flavorRef", t("action.newFlavor"), "select", {choices: flavorChoices(s.flavor && s.flavor.id), value: s.flavor && s.flavor.id}), {submit: t("action.resize")});
    }, run: function (s, v) { return post(s, {resize: {flavorRef: v.flavorRef}}); }},
    confirmResize: {label: "action.confirmResize", when: ["VERIFY_RESIZE"], run: function (s) { return post(s, {confirmResize: null}); }},
    revertResize: {label: "action.revertResize", when: ["VERIFY_RESIZE"], run: function (s) { return post(s, {revertResize: null}); }},
    rebuild: {label: "action.rebuild", when: ["ACTIVE", "SHUTOFF", "ERROR"], ask: function (s) {
      var body = ui.el("div", {}, [ui.el("p", {text: t("action.confirmRebuild", {name: s.name})}),
        ui.field("imageRef", t("action.rebuildImage"), "select", {choices: imageChoices(), value: s.image && s.image.id})]);
      return ui.dialog(t("action.rebuild"), body, {submit: t("action.rebuild"), danger: true});
    }, run: function (s, v) { return post(s, {rebuild: {imageRef: v.imageRef}}); }},
    rename: {label: "action.rename", ask: function (s) {
      return ui.dialog(t("action.rename"), ui.field("name", t("action.newName"), "text", {value: s.name, required: true}), {submit: t("action.rename")});
    }, run: function (s, v) { return api.call("compute", "PUT", "/servers/" + encodeURIComponent(s.id), {server: {name: v.name}}); }},
    console: {label: "action.console", when: ["ACTIVE"], run: function (s) { return openConsole(s); }, quiet: true},
    "delete": {label: "action.delete", danger: true, confirm: "action.confirmDelete", run: function (s) {
      return api.call("compute", "DELETE", "/servers/" + encodeURIComponent(s.id));
    }}
  };
  var ORDER = ["start", "stop", "reboot", "hardReboot", "console", "resize", "confirmResize", "revertResize", "rebuild", "rename", "delete"];
  var QUICK = ["start", "stop", "confirmResize", "delete"];

  /* The console opens in its own tab: the window is opened at once (inside the click, so no
   * pop-up blocker stops it) and pointed at the URL the API returns. */
  function openConsole(s) {
    var tab = window.open("", "_blank");
    return api.call("compute", "POST", "/servers/" + encodeURIComponent(s.id) + "/remote-consoles",
      {remote_console: {protocol: "vnc", type: "novnc"}}, {headers: {"OpenStack-API-Version": "compute 2.6"}}).then(function (data) {
      var url = data.remote_console.url;
      if (tab) {
        tab.opener = null;
        tab.location = url;
        ui.notice(t("action.consoleOpened", {name: s.name}));
      } else {
        ui.alert(t("action.consoleBlocked", {url: url}));
      }
    }, function (error) {
      if (tab) { tab.close(); }
      return $.Deferred().reject(error).promise();
    });
  }

  function available(s, name) {
    var a = ACTIONS[name];
    if (name === "console" && !Cyc.app.can("console")) { return false; }
    return !a.when || $.inArray(s.status, a.when) >= 0;
  }

  function perform(s, name) {
    var a = ACTIONS[name];
    var label = t(a.label);
    var asked = a.ask ? a.ask(s) : a.confirm ? ui.confirm(label, t(a.confirm, {name: s.name}), {submit: label, danger: a.danger}) : $.Deferred().resolve({}).promise();
    asked.done(function (values) {
      var run = a.run(s, values || {});
      run.fail(fail(label, s));
      if (!a.quiet) { run.done(done(label, s)); }
    });
  }

  function buttonFor(s, name) {
    var a = ACTIONS[name];
    return ui.button(t(a.label), function () { perform(s, name); }, a.danger ? "danger small" : "secondary small",
      {"data-action": name, "aria-label": t(a.label) + " " + s.name});
  }

  /* The list's buttons, as plain elements (a list of 1,000 servers builds them all at once);
   * the list handles their clicks with one delegated handler that calls perform(). */
  function quickButtons(s) {
    var out = [];
    for (var i = 0; i < QUICK.length; i++) {
      var name = QUICK[i];
      if (!available(s, name)) { continue; }
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = ACTIONS[name].danger ? "danger small" : "secondary small";
      btn.setAttribute("data-action", name);
      btn.textContent = t(ACTIONS[name].label);
      btn.setAttribute("aria-label", t(ACTIONS[name].label) + " " + s.name);
      out.push(btn);
    }
    return out;
  }

  function all(s) {
    return $.map($.grep(ORDER, function (n) { return available(s, n); }), function (n) { return buttonFor(s, n); });
  }

  // ------------------------------------------------------------------ details page
  function dl(pairs) {
    var list = ui.el("dl", {cls: "facts"});
    $.each(pairs, function (i, p) { list.append(ui.el("dt", {text: p[0]}), ui.el("dd", {text: p[1] === undefined || p[1] === null || p[1] === "" ? t("common.none") : p[1]})); });
    return list;
  }

  function addresses(s) {
    var rows = [];
    $.each(s.addresses || {}, function (net, list) {
      $.each(list, function (i, a) { rows.push([net, a.addr, "IPv" + a.version, a["OS-EXT-IPS:type"] || "", a["OS-EXT-IPS-MAC:mac_addr"] || ""]); });
    });
    if (!rows.length) { return ui.el("p", {text: t("detail.noAddresses")}); }
    return ui.table(t("detail.addresses"), [t("networks.network"), t("networks.address"), "IP", t("keypairs.type"), t("networks.mac")], rows);
  }

  function volumes(s) {
    var list = s["os-extended-volumes:volumes_attached"] || [];
    if (!list.length) { return ui.el("p", {text: t("detail.noVolumes")}); }
    return ui.el("ul", {}, $.map(list, function (v) { return ui.el("li", {text: v.id}); }));
  }

  function actionLog(holder, s) {
    api.call("compute", "GET", "/servers/" + encodeURIComponent(s.id) + "/os-instance-actions").done(function (data) {
      var list = data.instanceActions || [];
      holder.empty();
      if (!list.length) { holder.append(ui.el("p", {text: t("detail.noLog")})); return; }
      holder.append(ui.table(t("detail.log"), [t("detail.logAction"), t("detail.logStart"), t("detail.logMessage"), t("detail.logRequest")],
        $.map(list, function (a) { return [[a.action, ui.time(a.start_time), a.message || "", a.request_id]]; }), {cls: "log"}));
    }).fail(function (error) { holder.empty().append(ui.el("p", {cls: "field-error", text: error.message})); });
  }

  function view(id) {
    var main = ui.page(t("common.loading"));
    var shown = null;
    var logHolder = ui.el("div", {id: "action-log"}, [ui.loading()]);

    function draw(s) {
      shown = s;
      main.empty();
      document.title = t("detail.title", {name: s.name}) + " · Cyclades";
      main.append(
        ui.el("p", {}, [ui.el("a", {href: "#/servers", text: "← " + t("detail.back")})]),
        ui.el("div", {cls: "page-head"}, [ui.el("h1", {text: t("detail.title", {name: s.name})}),
          ui.el("span", {cls: "status status-" + s.status.toLowerCase(), id: "detail-status", text: Cyc.servers.statusText(s)})]),
        ui.el("div", {cls: "detail-actions", role: "group", "aria-label": t("common.actions")}, all(s)),
        ui.el("section", {"aria-labelledby": "h-overview"}, [ui.el("h2", {id: "h-overview", text: t("detail.overview")}), dl([
          [t("common.id"), s.id], [t("servers.flavor"), Cyc.servers.flavorName(s)], [t("servers.image"), Cyc.servers.imageName(s)],
          [t("detail.keyName"), s.key_name], [t("detail.power"), t("power." + s["OS-EXT-STS:power_state"])], [t("detail.created"), ui.time(s.created)],
          [t("detail.updated"), ui.time(s.updated)]
        ])]),
        ui.el("section", {"aria-labelledby": "h-addr"}, [ui.el("h2", {id: "h-addr", text: t("detail.addresses")}), addresses(s)]),
        ui.el("section", {"aria-labelledby": "h-vol"}, [ui.el("h2", {id: "h-vol", text: t("detail.volumes")}), volumes(s)]),
        ui.el("section", {"aria-labelledby": "h-log"}, [ui.el("h2", {id: "h-log", text: t("detail.log")}), logHolder])
      );
    }

    function gone() {
      main.empty().append(ui.el("p", {}, [ui.el("a", {href: "#/servers", text: "← " + t("detail.back")})]),
        ui.el("p", {cls: "info", id: "server-gone", text: t("detail.gone")}));
    }

    function update(change) {
      $.each(change.removed, function (i, s) { if (s.id === id) { gone(); shown = null; } });
      $.each(change.changed, function (i, s) {
        if (s.id === id) {
          var statusChanged = !shown || shown.status !== s.status;
          var focusedAction = $(document.activeElement).attr("data-action");
          draw(s);
          if (focusedAction) { main.find("[data-action='" + focusedAction + "']").trigger("focus"); }
          if (statusChanged) { actionLog(logHolder, s); } else { logHolder.empty(); actionLog(logHolder, s); }
        }
      });
    }

    var cached = Cyc.store.servers[id];
    if (cached) { draw(cached); actionLog(logHolder, cached); }
    api.call("compute", "GET", "/servers/" + encodeURIComponent(id)).done(function (data) {
      var s = data.server;
      if (!cached || cached.updated !== s.updated) { draw(s); actionLog(logHolder, s); }
    }).fail(function (error) {
      if (error.status === 404) { gone(); } else { ui.alert(error.message); }
    });
    Cyc.store.listeners.add(update);
    return function () { Cyc.store.listeners.remove(update); };
  }

  Cyc.actions = {quickButtons: quickButtons, all: all, perform: perform};
  Cyc.serverDetail = {view: view};
})(jQuery);
