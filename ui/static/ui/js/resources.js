/* Key pairs (Nova os-keypairs), images (Glance v2, upload with a progress bar where the
 * service takes uploads) and the project's quotas and usage as bars. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;

  function errorIn(holder) {
    return function (error) { holder.empty().append(ui.el("p", {cls: "field-error", text: error.message})); };
  }

  // ------------------------------------------------------------------ key pairs
  function keypairs() {
    var holder = ui.el("div", {id: "keypair-list"}, [ui.loading()]);
    var main = ui.page(t("keypairs.title"), [ui.button(t("keypairs.new"), create, "primary", {id: "new-keypair"})]);
    main.append(holder);

    function load() {
      api.call("compute", "GET", "/os-keypairs").done(function (data) {
        var list = $.map(data.keypairs || [], function (k) { return k.keypair; });
        holder.empty();
        if (!list.length) { holder.append(ui.el("p", {cls: "empty", text: t("common.empty")})); return; }
        holder.append(ui.table(t("keypairs.title"), [t("common.name"), t("keypairs.fingerprint"), t("keypairs.type"), t("common.actions")],
          $.map(list, function (k) {
            return [[k.name, k.fingerprint, k.type || "ssh", ui.button(t("common.delete"), function () { remove(k); }, "danger small", {"aria-label": t("common.delete") + " " + k.name})]];
          })));
      }).fail(errorIn(holder));
    }

    function create() {
      var body = ui.el("div", {}, [
        ui.field("name", t("common.name"), "text", {required: true}),
        ui.field("public_key", t("keypairs.publicKey"), "textarea", {rows: 4})
      ]);
      ui.dialog(t("keypairs.new"), body, {submit: t("common.create"), validate: function (v) {
        return $.trim(v.name) ? null : t("wizard.nameRequired");
      }}).done(function (values) {
        var keypair = {name: $.trim(values.name)};
        if ($.trim(values.public_key)) { keypair.public_key = $.trim(values.public_key); }
        api.call("compute", "POST", "/os-keypairs", {keypair: keypair}).done(function (data) {
          ui.notice(t("keypairs.created", {name: keypair.name}));
          if (data.keypair && data.keypair.private_key) { showPrivateKey(data.keypair); }
          load();
        }).fail(ui.failed());
      });
    }

    function showPrivateKey(k) {
      var blob = new Blob([k.private_key], {type: "application/x-pem-file"});
      var url = URL.createObjectURL(blob);
      var area = ui.el("textarea", {readonly: true, rows: 8, cls: "mono", "aria-label": t("keypairs.privateKey", {name: k.name})});
      area.val(k.private_key);
      holder.before(ui.el("div", {cls: "info private-key"}, [
        ui.el("p", {text: t("keypairs.privateKey", {name: k.name})}), area,
        ui.el("a", {href: url, download: k.name + ".pem", text: t("keypairs.download", {name: k.name})})
      ]));
    }

    function remove(k) {
      ui.confirm(t("common.delete"), t("keypairs.confirmDelete", {name: k.name}), {danger: true, submit: t("common.delete")}).done(function () {
        api.call("compute", "DELETE", "/os-keypairs/" + encodeURIComponent(k.name)).done(function () {
          ui.notice(t("keypairs.deleted", {name: k.name}));
          load();
        }).fail(ui.failed());
      });
    }

    load();
  }

  // ------------------------------------------------------------------ images
  /* Does the service take this method on this path? The Allow header of an OPTIONS answer
   * says so where the service gives one; a service that does not answer OPTIONS is trusted. */
  function allows(service, path, method) {
    return api.call(service, "OPTIONS", path, null, {dataType: "text"}).then(function (data, xhr) {
      var allow = xhr.getResponseHeader("Allow");
      return !allow || allow.toUpperCase().split(/\s*,\s*/).indexOf(method) >= 0;
    }, function (error) {
      return $.Deferred().resolve(error.status !== 404 && error.status !== 405 && error.status !== 0).promise();
    });
  }

  function images() {
    var holder = ui.el("div", {id: "image-list"}, [ui.loading()]);
    var actions = ui.el("div", {cls: "page-actions"});
    var main = ui.page(t("images.title"));
    main.find(".page-actions").replaceWith(actions);
    main.append(holder);
    var canUpload = false;

    function load() {
      var list = api.has("image") ? api.listAll("image", "/v2/images", "images", "next")
        : api.call("compute", "GET", "/images/detail").then(function (d) { return d.images; });
      list.done(function (items) {
        holder.empty();
        if (!items.length) { holder.append(ui.el("p", {cls: "empty", text: t("common.empty")})); return; }
        var session = api.session();
        holder.append(ui.table(t("images.title"), [t("common.name"), t("common.status"), t("images.visibility"), t("images.diskFormat"), t("common.size"), t("common.actions")],
          $.map(items, function (im) {
            var mine = im.owner && session.project && im.owner === session.project.id;
            return [[im.name || im.id, im.status, im.visibility || "", im.disk_format || "", ui.bytes(im.size),
              mine && canUpload ? ui.button(t("common.delete"), function () { remove(im); }, "danger small", {"aria-label": t("common.delete") + " " + im.name}) : ""]];
          })));
      }).fail(errorIn(holder));
    }

    function remove(im) {
      ui.confirm(t("common.delete"), t("images.confirmDelete", {name: im.name}), {danger: true, submit: t("common.delete")}).done(function () {
        api.call("image", "DELETE", "/v2/images/" + encodeURIComponent(im.id)).done(function () {
          ui.notice(t("images.deleted", {name: im.name}));
          load();
        }).fail(ui.failed());
      });
    }

    function upload() {
      var body = ui.el("div", {}, [
        ui.field("name", t("common.name"), "text", {required: true}),
        ui.field("disk_format", t("images.diskFormat"), "select", {choices: $.map(["raw", "qcow2", "vmdk", "vdi", "iso"], function (f) { return {value: f, label: f}; })}),
        ui.field("file", t("images.file"), "file", {required: true})
      ]);
      var fileInput = body.find("[name=file]");
      ui.dialog(t("images.upload"), body, {submit: t("images.upload"), validate: function (v) {
        if (!$.trim(v.name)) { return t("wizard.nameRequired"); }
        return fileInput[0].files.length ? null : t("wizard.required", {what: t("images.file")});
      }}).done(function (values) { send($.trim(values.name), values.disk_format, fileInput[0].files[0]); });
    }

    function send(name, diskFormat, file) {
      var bar = ui.el("progress", {max: 100, value: 0, id: "upload-progress", "aria-label": t("images.progress")});
      var text = ui.el("span", {text: t("images.uploading", {name: name, percent: 0})});
      var box = ui.el("div", {cls: "info upload"}, [text, bar]);
      holder.before(box);
      api.call("image", "POST", "/v2/images", {name: name, disk_format: diskFormat, container_format: "bare", visibility: "private"}).then(function (image) {
        return api.call("image", "PUT", "/v2/images/" + encodeURIComponent(image.id) + "/file", null, {
          data: file, processData: false, contentType: "application/octet-stream", dataType: "text",
          xhr: function () {
            var xhr = new XMLHttpRequest();
            xhr.upload.addEventListener("progress", function (e) {
              if (e.lengthComputable) {
                var percent = Math.round(100 * e.loaded / e.total);
                bar.val(percent);
                text.text(t("images.uploading", {name: name, percent: percent}));
              }
            });
            return xhr;
          }
        });
      }).done(function () {
        box.remove();
        ui.notice(t("images.uploaded", {name: name}));
        load();
      }).fail(function (error) { box.remove(); ui.alert(error.message); });
    }

    if (api.has("image")) {
      allows("image", "/v2/images", "POST").done(function (yes) {
        canUpload = yes;
        if (yes) { actions.append(ui.button(t("images.upload"), upload, "primary", {id: "upload-image"})); }
        load();
      });
    } else {
      load();
    }
  }

  // ------------------------------------------------------------------ quotas
  function quotaSection(holder, titleKey, rows) {
    var section = ui.el("section", {cls: "quota-section"}, [ui.el("h2", {text: t(titleKey)})]);
    $.each(rows, function (i, r) { section.append(ui.bar(t("quotas." + r.key), r.used, r.limit)); });
    holder.append(section);
  }

  function quotas() {
    var main = ui.page(t("quotas.title"));
    var holder = ui.el("div", {id: "quotas"}, [ui.loading()]);
    main.append(holder);
    var project = api.session().project.id;
    var parts = [];
    parts.push(api.call("compute", "GET", "/os-quota-sets/" + encodeURIComponent(project) + "/detail").then(function (data) {
      var rows = [];
      $.each(["instances", "cores", "ram", "key_pairs", "server_groups", "metadata_items"], function (i, key) {
        var q = data.quota_set[key];
        if (q && typeof q === "object") { rows.push({key: key, used: (q.in_use || 0) + (q.reserved || 0), limit: q.limit}); }
      });
      return {title: "quotas.sectionCompute", rows: rows};
    }));
    if (api.has("network")) {
      parts.push(api.call("network", "GET", "/v2.0/quotas/" + encodeURIComponent(project) + "/details").then(function (data) {
        var rows = [];
        $.each(["network", "subnet", "port", "floatingip", "router", "security_group"], function (i, key) {
          var q = data.quota && data.quota[key];
          if (q) { rows.push({key: key, used: q.used || 0, limit: q.limit}); }
        });
        return {title: "quotas.sectionNetwork", rows: rows};
      }, function () { return $.Deferred().resolve(null).promise(); }));
    }
    if (api.has("volumev3") || api.has("volume")) {
      var service = api.has("volumev3") ? "volumev3" : "volume";
      parts.push(api.call(service, "GET", "/limits").then(function (data) {
        var a = (data.limits || {}).absolute || {};
        var rows = [];
        if (a.maxTotalVolumes !== undefined) { rows.push({key: "volumes", used: a.totalVolumesUsed || 0, limit: a.maxTotalVolumes}); }
        if (a.maxTotalVolumeGigabytes !== undefined) { rows.push({key: "gigabytes", used: a.totalGigabytesUsed || 0, limit: a.maxTotalVolumeGigabytes}); }
        if (a.maxTotalSnapshots !== undefined) { rows.push({key: "snapshots", used: a.totalSnapshotsUsed || 0, limit: a.maxTotalSnapshots}); }
        return {title: "quotas.sectionVolume", rows: rows};
      }, function () { return $.Deferred().resolve(null).promise(); }));
    }
    $.when.apply($, parts).done(function () {
      holder.empty();
      $.each(arguments, function (i, part) { if (part && part.rows && part.rows.length) { quotaSection(holder, part.title, part.rows); } });
    }).fail(errorIn(holder));
  }

  Cyc.resources = {keypairs: keypairs, images: images, quotas: quotas, allows: allows};
})(jQuery);
