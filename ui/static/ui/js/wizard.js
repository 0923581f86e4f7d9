/* The create wizard: image, flavor, access (key pair, user data), networks and security
 * groups (when the network service offers them), then name and review; POST /servers.
 * Each step is a fieldset with a legend; Next checks the step, Back keeps what was chosen. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;

  function optional(promise) {
    return promise.then(function (v) { return v; }, function () { return $.Deferred().resolve(null).promise(); });
  }

  function loadChoices() {
    var images = api.has("image") ? api.listAll("image", "/v2/images", "images", "next")
      : api.call("compute", "GET", "/images/detail").then(function (d) { return d.images; });
    var flavors = api.call("compute", "GET", "/flavors/detail").then(function (d) { return d.flavors; });
    var keypairs = api.call("compute", "GET", "/os-keypairs").then(function (d) { return $.map(d.keypairs || [], function (k) { return k.keypair; }); });
    var networks = api.has("network") ? optional(api.call("network", "GET", "/v2.0/networks").then(function (d) { return d.networks; })) : null;
    var groups = api.has("network") ? optional(api.call("network", "GET", "/v2.0/security-groups").then(function (d) { return d.security_groups; })) : null;
    return $.when(images, flavors, keypairs, networks, groups);
  }

  function radios(name, legend, items, describe) {
    var set = ui.el("fieldset", {cls: "choices"}, [ui.el("legend", {text: legend})]);
    $.each(items, function (i, item) {
      var id = "w-" + name + "-" + i;
      set.append(ui.el("div", {cls: "choice"}, [
        ui.el("input", {type: "radio", name: name, id: id, value: item.id, checked: i === 0}),
        ui.el("label", {"for": id, text: describe(item)})
      ]));
    });
    return set;
  }

  function checks(name, legend, items, describe, checked) {
    var set = ui.el("fieldset", {cls: "choices"}, [ui.el("legend", {text: legend})]);
    $.each(items, function (i, item) {
      var id = "w-" + name + "-" + i;
      set.append(ui.el("div", {cls: "choice"}, [
        ui.el("input", {type: "checkbox", name: name, id: id, value: item.id || item.name, checked: checked(item, i)}),
        ui.el("label", {"for": id, text: describe(item)})
      ]));
    });
    return set;
  }

  function utf8Base64(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary);
  }

  function view() {
    var main = ui.page(t("wizard.title"));
    main.append(ui.loading());
    var closed = false;
    loadChoices().done(function (images, flavors, keypairs, networks, groups) {
      if (closed) { return; }
      main.find(".loading").remove();
      images = $.grep(images || [], function (im) { return !im.status || im.status === "active" || im.status === "ACTIVE"; });
      flavors = (flavors || []).slice().sort(function (a, b) { return a.ram - b.ram || a.vcpus - b.vcpus || a.name.localeCompare(b.name); });
      if (!images.length) { main.append(ui.el("p", {cls: "field-error", text: t("wizard.noImages")})); return; }
      if (!flavors.length) { main.append(ui.el("p", {cls: "field-error", text: t("wizard.noFlavors")})); return; }
      build(main, images, flavors, keypairs || [], networks, groups);
    }).fail(function (error) { main.find(".loading").remove(); main.append(ui.el("p", {cls: "field-error", text: error.message})); });
    return function () { closed = true; };
  }

  function build(main, images, flavors, keypairs, networks, groups) {
    var steps = [];
    steps.push({title: t("wizard.stepImage"), body: radios("image", t("wizard.image"), images, function (im) {
      return im.name + (im.size ? " (" + ui.bytes(im.size) + ")" : "");
    })});
    steps.push({title: t("wizard.stepFlavor"), body: radios("flavor", t("wizard.flavor"), flavors, function (f) {
      return t("wizard.flavorText", {name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk});
    })});
    var keyChoices = [{value: "", label: t("wizard.noKeypair")}].concat($.map(keypairs, function (k) { return {value: k.name, label: k.name}; }));
    steps.push({title: t("wizard.stepAccess"), body: ui.el("div", {}, [
      ui.field("key_name", t("wizard.keypair"), "select", {choices: keyChoices, value: keypairs.length === 1 ? keypairs[0].name : ""}),
      ui.field("user_data", t("wizard.userData"), "textarea", {help: t("wizard.userDataHelp"), rows: 6})
    ])});
    if (networks !== null || groups !== null) {
      var parts = [];
      var usable = $.grep(networks || [], function (n) { return n.status === undefined || n.status === "ACTIVE"; });
      if (networks !== null) {
        parts.push(usable.length ? checks("networks", t("wizard.networks"), usable, function (n) {
          return n.name + (n.shared ? " (" + t("networks.shared") + ")" : "") + (n["router:external"] ? " (" + t("networks.external") + ")" : "");
        }, function (n) { return usable.length === 1 || !n.shared; }) : ui.el("p", {text: t("wizard.noNetworks")}));
      }
      if (groups && groups.length) {
        parts.push(checks("security_groups", t("wizard.securityGroups"), groups, function (g) { return g.name; }, function (g) { return g.name === "default"; }));
      }
      steps.push({title: t("wizard.stepNetwork"), body: ui.el("div", {}, parts)});
    }
    var review = ui.el("p", {cls: "review", id: "wizard-review"});
    steps.push({title: t("wizard.stepReview"), body: ui.el("div", {}, [
      ui.field("name", t("wizard.name"), "text", {required: true}), review
    ])});

    var error = ui.el("p", {cls: "field-error", role: "alert", id: "wizard-error"});
    var progress = ui.el("p", {cls: "step-title", id: "wizard-step", "aria-live": "polite"});
    var back = ui.button(t("wizard.back"), function () { go(current - 1); }, "secondary", {id: "wizard-back"});
    var next = ui.button(t("wizard.next"), function () { if (check()) { go(current + 1); } }, "primary", {id: "wizard-next"});
    var submit = ui.el("button", {type: "submit", cls: "primary", id: "wizard-create", text: t("wizard.create")});
    var form = ui.el("form", {cls: "wizard", novalidate: true}, [progress]);
    $.each(steps, function (i, step) { form.append(ui.el("section", {cls: "step", "data-step": i}, [step.body])); });
    form.append(error, ui.el("div", {cls: "buttons"}, [back, next, submit]));
    main.append(form);
    var current = 0;

    function value(name) { return form.find("[name=" + name + "]:checked").val() || form.find("[name=" + name + "]").not(":radio,:checkbox").val(); }
    function label(list, id) { var f = $.grep(list, function (x) { return x.id === id; })[0]; return f ? f.name : id; }

    function check() {
      error.text("");
      var section = form.find("[data-step=" + current + "]");
      if (section.find("[name=image]").length && !value("image")) { error.text(t("wizard.required", {what: t("wizard.image")})); return false; }
      if (section.find("[name=flavor]").length && !value("flavor")) { error.text(t("wizard.required", {what: t("wizard.flavor")})); return false; }
      return true;
    }

    function go(index) {
      current = Math.max(0, Math.min(steps.length - 1, index));
      form.find(".step").attr("hidden", true);
      var section = form.find("[data-step=" + current + "]").attr("hidden", false);
      progress.text(t("wizard.step", {n: current + 1, total: steps.length, title: steps[current].title}));
      back.prop("disabled", current === 0);
      next.attr("hidden", current === steps.length - 1);
      submit.attr("hidden", current !== steps.length - 1);
      summarize();
      section.find("input, select, textarea").first().trigger("focus");
    }

    function summarize() {
      review.text(t("wizard.review", {name: form.find("[name=name]").val() || "…", image: label(images, value("image")), flavor: label(flavors, value("flavor"))}));
    }
    form.on("input", "[name=name]", summarize);
    form.on("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName !== "TEXTAREA" && current < steps.length - 1) {
        event.preventDefault();
        if (check()) { go(current + 1); }
      }
    });
    form.on("submit", function (event) {
      event.preventDefault();
      var name = $.trim(form.find("[name=name]").val());
      if (!name) { error.text(t("wizard.nameRequired")); form.find("[name=name]").trigger("focus"); return; }
      var server = {name: name, imageRef: value("image"), flavorRef: value("flavor")};
      var key = form.find("[name=key_name]").val();
      if (key) { server.key_name = key; }
      var userData = form.find("[name=user_data]").val();
      if (userData) { server.user_data = utf8Base64(userData); }
      var nets = form.find("[name=networks]:checked").map(function () { return {uuid: this.value}; }).get();
      if (nets.length) { server.networks = nets; }
      var sgs = form.find("[name=security_groups]:checked").map(function () { return {name: this.value}; }).get();
      if (sgs.length) { server.security_groups = sgs; }
      submit.prop("disabled", true).text(t("wizard.creating"));
      api.call("compute", "POST", "/servers", {server: server}).done(function (data) {
        ui.notice(t("wizard.created", {name: name}));
        Cyc.servers.refreshSoon();
        location.hash = "#/servers/" + encodeURIComponent(data.server.id);
      }).fail(function (e) {
        error.text(e.message);
        submit.prop("disabled", false).text(t("wizard.create"));
      });
    });
    go(0);
  }

  Cyc.wizard = {view: view};
})(jQuery);
