/* The app: which parts exist (from the catalog, and for services that may be only partly
 * there, from whether their listing answers), the navigation, and the hash router. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;
  var features = {};
  var cleanup = null;
  var running = false;

  var ROUTES = [
    {path: /^#?\/?$/, go: function () { location.replace("#/servers"); }},
    {path: /^#\/servers$/, need: "compute", view: function () { return Cyc.servers.view(); }},
    {path: /^#\/servers\/([^/]+)$/, need: "compute", view: function (m) { return Cyc.serverDetail.view(decodeURIComponent(m[1])); }},
    {path: /^#\/create$/, need: "create", view: function () { return Cyc.wizard.view(); }},
    {path: /^#\/keypairs$/, need: "compute", view: function () { return Cyc.resources.keypairs(); }},
    {path: /^#\/images$/, need: "images", view: function () { return Cyc.resources.images(); }},
    {path: /^#\/networks$/, need: "networks", view: function () { return Cyc.network.view(); }},
    {path: /^#\/volumes$/, need: "volumes", view: function () { return Cyc.volumes.view(); }},
    {path: /^#\/quotas$/, need: "compute", view: function () { return Cyc.resources.quotas(); }}
  ];

  var NAV = [
    ["#/servers", "nav.servers", "compute"], ["#/create", "nav.create", "create"], ["#/keypairs", "nav.keypairs", "compute"],
    ["#/images", "nav.images", "images"], ["#/networks", "nav.networks", "networks"], ["#/volumes", "nav.volumes", "volumes"],
    ["#/quotas", "nav.quotas", "compute"]
  ];

  function can(feature) { return !!features[feature]; }

  function detect() {
    features = {compute: api.has("compute"), create: api.has("compute"), console: api.has("compute"), images: api.has("image") || api.has("compute")};
    var probes = [];
    features.networks = false;
    features.volumes = false;
    if (api.has("network")) {
      probes.push(api.call("network", "GET", "/v2.0/networks?limit=1").then(function () { features.networks = true; }, function () { return $.Deferred().resolve().promise(); }));
    }
    if (api.has("volumev3") || api.has("volume")) {
      probes.push(Cyc.volumes.probe().then(function (yes) { features.volumes = yes; }));
    }
    return $.when.apply($, probes);
  }

  function nav() {
    var bar = $("#nav").empty().attr("hidden", false);
    var list = ui.el("ul");
    $.each(NAV, function (i, item) {
      if (can(item[2])) { list.append(ui.el("li", {}, [ui.el("a", {href: item[0], "data-nav": item[0].slice(2), text: t(item[1])})])); }
    });
    bar.append(list);
  }

  function route() {
    if (!running) { return; }
    if (cleanup) { cleanup(); cleanup = null; }
    ui.clearAlerts();
    var hash = location.hash || "#/";
    $("#nav a").removeAttr("aria-current");
    for (var i = 0; i < ROUTES.length; i++) {
      var m = hash.match(ROUTES[i].path);
      if (!m) { continue; }
      if (ROUTES[i].go) { ROUTES[i].go(); return; }
      if (ROUTES[i].need && !can(ROUTES[i].need)) { break; }
      $("#nav a").filter(function () { return hash.indexOf($(this).attr("href")) === 0; }).first().attr("aria-current", "page");
      var result = ROUTES[i].view(m);
      cleanup = typeof result === "function" ? result : null;
      $("#main").trigger("focus");
      return;
    }
    location.replace("#/servers");
  }

  function start() {
    running = false;
    $("#main").empty().append(ui.loading());
    detect().always(function () {
      running = true;
      nav();
      if (can("compute")) { Cyc.servers.start(); }
      route();
    });
  }

  function stop() {
    running = false;
    if (cleanup) { cleanup(); cleanup = null; }
    Cyc.servers.stop();
  }

  Cyc.app = {start: start, stop: stop, can: can, features: function () { return $.extend({}, features); }};

  $(window).on("hashchange", route);
  $(function () {
    if (api.load() && api.session().project) {
      Cyc.session.started();
    } else {
      api.use(null);
      Cyc.session.loginForm();
    }
  });
})(jQuery);
