/* Volumes (Cinder v3): list, create, delete; attach to and detach from servers through
 * Nova's os-volume_attachments. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;

  function service() { return api.has("volumev3") ? "volumev3" : "volume"; }

  function probe() {
    return api.call(service(), "GET", "/volumes?limit=1").then(function () { return true; }, function () { return $.Deferred().resolve(false).promise(); });
  }

  function serverName(id) {
    var s = Cyc.store.servers[id];
    return s ? s.name : id;
  }

  function view() {
    var holder = ui.el("div", {id: "volume-list"}, [ui.loading()]);
    var main = ui.page(t("volumes.title"), [ui.button(t("volumes.new"), create, "primary", {id: "new-volume"})]);
    main.append(holder);

    function load() {
      api.call(service(), "GET", "/volumes/detail").done(function (data) {
        var items = data.volumes || [];
        holder.empty();
        if (!items.length) { holder.append(ui.el("p", {cls: "empty", text: t("common.empty")})); return; }
        holder.append(ui.table(t("volumes.title"), [t("common.name"), t("common.status"), t("volumes.sizeGb"), t("volumes.attachedTo"), t("common.actions")],
          $.map(items, function (v) {
            var attached = $.map(v.attachments || [], function (a) { return serverName(a.server_id); }).join(", ");
            var buttons = ui.el("div", {cls: "row-actions"});
            if ((v.attachments || []).length) {
              $.each(v.attachments, function (i, a) { buttons.append(ui.button(t("volumes.detach"), function () { detach(v, a.server_id); }, "secondary small")); });
            } else if (v.status === "available") {
              buttons.append(ui.button(t("volumes.attach"), function () { attach(v); }, "secondary small"));
              buttons.append(ui.button(t("common.delete"), function () { remove(v); }, "danger small"));
            }
            return [[v.name || v.id, v.status, v.size, attached, buttons]];
          })));
      }).fail(function (error) { holder.empty().append(ui.el("p", {cls: "field-error", text: error.message})); });
    }

    function create() {
      var body = ui.el("div", {}, [ui.field("name", t("common.name"), "text", {required: true}), ui.field("size", t("volumes.sizeGb"), "number", {value: 1, min: 1, required: true})]);
      ui.dialog(t("volumes.new"), body, {submit: t("common.create")}).done(function (v) {
        api.call(service(), "POST", "/volumes", {volume: {name: v.name, size: parseInt(v.size, 10)}}).done(function () {
          ui.notice(t("volumes.created", {name: v.name}));
          load();
        }).fail(ui.failed());
      });
    }

    function attach(v) {
      var choices = $.map(Cyc.store.servers, function (s) { return {value: s.id, label: s.name}; });
      ui.dialog(t("volumes.attach"), ui.field("server", t("volumes.server"), "select", {choices: choices}), {submit: t("volumes.attach")}).done(function (values) {
        api.call("compute", "POST", "/servers/" + encodeURIComponent(values.server) + "/os-volume_attachments", {volumeAttachment: {volumeId: v.id}}).done(function () {
          ui.notice(t("volumes.attached", {name: v.name || v.id}));
          load();
        }).fail(ui.failed());
      });
    }

    function detach(v, serverId) {
      api.call("compute", "DELETE", "/servers/" + encodeURIComponent(serverId) + "/os-volume_attachments/" + encodeURIComponent(v.id)).done(function () {
        ui.notice(t("volumes.detached", {name: v.name || v.id}));
        load();
      }).fail(ui.failed());
    }

    function remove(v) {
      ui.confirm(t("common.delete"), t("volumes.confirmDelete", {name: v.name || v.id}), {danger: true, submit: t("common.delete")}).done(function () {
        api.call(service(), "DELETE", "/volumes/" + encodeURIComponent(v.id)).done(function () {
          ui.notice(t("volumes.deleted", {name: v.name || v.id}));
          load();
        }).fail(ui.failed());
      });
    }

    load();
  }

  Cyc.volumes = {view: view, probe: probe};
})(jQuery);
