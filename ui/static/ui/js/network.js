/* Networks, subnets, ports and floating IPs (Neutron v2.0). A section appears only when its
 * listing answers; creating and deleting appear only when the service takes those methods. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;

  function section(id, title) {
    return ui.el("section", {id: id, "aria-labelledby": id + "-h", hidden: true}, [ui.el("h2", {id: id + "-h", text: title})]);
  }

  function list(path, key) {
    return api.call("network", "GET", path).then(function (d) { return d[key] || []; });
  }

  function fixedIps(port) {
    return $.map(port.fixed_ips || [], function (ip) { return ip.ip_address; }).join(", ");
  }

  function view() {
    var main = ui.page(t("networks.title"));
    var nets = section("networks", t("networks.title"));
    var subnets = section("subnets", t("networks.subnets"));
    var ports = section("ports", t("networks.ports"));
    var fips = section("floating-ips", t("networks.floatingIps"));
    main.append(nets, subnets, ports, fips);
    var names = {};
    var writable = {networks: false, floatingips: false};

    function fill(box, content) {
      box.children().not("h2").remove();
      box.append(content).attr("hidden", false);
    }

    function hideOn404(box) {
      return function (error) {
        if (error.status === 404 || error.status === 405 || error.status === 501) { box.attr("hidden", true); } else { fill(box, ui.el("p", {cls: "field-error", text: error.message})); }
      };
    }

    function loadNetworks() {
      return list("/v2.0/networks", "networks").done(function (items) {
        $.each(items, function (i, n) { names[n.id] = n.name; });
        var rows = $.map(items, function (n) {
          var mine = n.project_id && n.project_id === api.session().project.id;
          var cells = [n.name, n.status, n.shared ? t("common.yes") : t("common.no"), n["router:external"] ? t("common.yes") : t("common.no")];
          if (writable.networks) {
            cells.push(mine ? ui.button(t("common.delete"), function () { removeNetwork(n); }, "danger small", {"aria-label": t("common.delete") + " " + n.name}) : "");
          }
          return [cells];
        });
        var headers = [t("common.name"), t("common.status"), t("networks.shared"), t("networks.external")];
        if (writable.networks) { headers.push(t("common.actions")); }
        var content = [rows.length ? ui.table(t("networks.title"), headers, rows) : ui.el("p", {text: t("common.empty")})];
        if (writable.networks) { content.unshift(ui.button(t("networks.new"), createNetwork, "primary", {id: "new-network"})); }
        fill(nets, content);
      }).fail(hideOn404(nets));
    }

    function createNetwork() {
      ui.dialog(t("networks.new"), ui.field("name", t("common.name"), "text", {required: true}), {submit: t("common.create")}).done(function (v) {
        api.call("network", "POST", "/v2.0/networks", {network: {name: v.name}}).done(function () {
          ui.notice(t("networks.created", {name: v.name}));
          loadNetworks();
        }).fail(ui.failed());
      });
    }

    function removeNetwork(n) {
      ui.confirm(t("common.delete"), t("networks.confirmDelete", {name: n.name}), {danger: true, submit: t("common.delete")}).done(function () {
        api.call("network", "DELETE", "/v2.0/networks/" + encodeURIComponent(n.id)).done(function () {
          ui.notice(t("networks.deleted", {name: n.name}));
          loadNetworks();
        }).fail(ui.failed());
      });
    }

    function loadSubnets() {
      list("/v2.0/subnets", "subnets").done(function (items) {
        fill(subnets, items.length ? ui.table(t("networks.subnets"), [t("common.name"), t("networks.network"), t("networks.cidr")],
          $.map(items, function (s) { return [[s.name, names[s.network_id] || s.network_id, s.cidr]]; })) : ui.el("p", {text: t("common.empty")}));
      }).fail(hideOn404(subnets));
    }

    function loadPorts() {
      list("/v2.0/ports", "ports").done(function (items) {
        fill(ports, items.length ? ui.table(t("networks.ports"), [t("common.id"), t("networks.network"), t("networks.device"), t("networks.fixedIps"), t("networks.mac")],
          $.map(items, function (p) { return [[p.name || p.id, names[p.network_id] || p.network_id, p.device_id || "", fixedIps(p), p.mac_address]]; })) : ui.el("p", {text: t("common.empty")}));
      }).fail(hideOn404(ports));
    }

    function loadFloatingIps() {
      list("/v2.0/floatingips", "floatingips").done(function (items) {
        var rows = $.map(items, function (f) {
          return [[f.floating_ip_address, names[f.floating_network_id] || f.floating_network_id, f.fixed_ip_address || "", f.status || "",
            writable.floatingips ? ui.button(t("networks.release"), function () { release(f); }, "danger small") : ""]];
        });
        var content = [rows.length ? ui.table(t("networks.floatingIps"), [t("networks.address"), t("networks.network"), t("networks.fixedIps"), t("common.status"), t("common.actions")], rows) : ui.el("p", {text: t("common.empty")})];
        if (writable.floatingips) { content.unshift(ui.button(t("networks.allocate"), allocate, "primary")); }
        fill(fips, content);
      }).fail(hideOn404(fips));
    }

    function allocate() {
      list("/v2.0/networks?router:external=true", "networks").done(function (external) {
        ui.dialog(t("networks.allocate"), ui.field("network", t("networks.network"), "select", {choices: $.map(external, function (n) { return {value: n.id, label: n.name}; })}), {submit: t("networks.allocate")}).done(function (v) {
          api.call("network", "POST", "/v2.0/floatingips", {floatingip: {floating_network_id: v.network}}).done(function (d) {
            ui.notice(t("networks.allocated", {address: d.floatingip.floating_ip_address}));
            loadFloatingIps();
          }).fail(ui.failed());
        });
      }).fail(ui.failed());
    }

    function release(f) {
      api.call("network", "DELETE", "/v2.0/floatingips/" + encodeURIComponent(f.id)).done(function () {
        ui.notice(t("networks.released", {address: f.floating_ip_address}));
        loadFloatingIps();
      }).fail(ui.failed());
    }

    var checks = [
      Cyc.resources.allows("network", "/v2.0/networks", "POST").done(function (yes) { writable.networks = yes; }),
      Cyc.resources.allows("network", "/v2.0/floatingips", "POST").done(function (yes) { writable.floatingips = yes; })
    ];
    $.when.apply($, checks).always(function () {
      loadNetworks().always(function () { loadSubnets(); loadPorts(); loadFloatingIps(); });
    });
  }

  Cyc.network = {view: view};
})(jQuery);
