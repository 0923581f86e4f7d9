/* Small accessible building blocks: elements, messages, dialogs, form fields, tables, bars.
 * Text always goes in through .text() (never as HTML), so API data cannot inject markup. */
(function ($) {
  "use strict";
  var t = Cyc.t;

  function el(tag, attrs, children) {
    var node = $(document.createElement(tag));
    $.each(attrs || {}, function (key, value) {
      if (value === undefined || value === null || value === false) { return; }
      if (key === "text") { node.text(value); } else if (key === "cls") { node.addClass(value); } else if (key === "on") {
        $.each(value, function (event, handler) { node.on(event, handler); });
      } else { node.attr(key, value === true ? "" : value); }
    });
    $.each(children || [], function (i, child) {
      if (child !== null && child !== undefined) { node.append(child); }
    });
    return node;
  }

  /* A passing message (polite live region), removed after a while. */
  function notice(text) {
    var item = el("p", {cls: "notice", text: text});
    $("#notices").append(item);
    setTimeout(function () { item.fadeOut(400, function () { item.remove(); }); }, 6000);
  }

  /* An error in words: it stays until dismissed (assertive live region). */
  function alert(text) {
    var item = el("div", {cls: "alert"}, [
      el("span", {cls: "alert-text", text: text}),
      el("button", {type: "button", cls: "link", text: t("common.dismiss"), on: {click: function () { item.remove(); }}})
    ]);
    $("#alerts").append(item);
    return item;
  }

  function clearAlerts() { $("#alerts").empty(); }

  /* Report a failed call: the API's message, optionally prefixed by what was being done. */
  function failed(prefix) {
    return function (error) {
      var message = error && error.message ? error.message : String(error);
      alert(prefix ? prefix(message) : message);
    };
  }

  /* A modal dialog; resolve(values) on submit, nothing on cancel. Focus moves in and back. */
  function dialog(title, body, options) {
    options = options || {};
    var previous = document.activeElement;
    var deferred = $.Deferred();
    var id = "dlg-" + Math.random().toString(36).slice(2);
    var errorBox = el("p", {cls: "field-error", role: "alert"});
    var form = el("form", {cls: "dialog-form", novalidate: true}, [body, errorBox, el("div", {cls: "buttons"}, [
      el("button", {type: "submit", cls: options.danger ? "danger" : "primary", text: options.submit || t("common.confirm")}),
      el("button", {type: "button", cls: "secondary", text: t("common.cancel"), on: {click: function () { close(true); }}})
    ])]);
    var box = el("div", {cls: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": id}, [
      el("h2", {id: id, text: title}), form
    ]);
    var overlay = el("div", {cls: "overlay"}, [box]);
    function close(cancelled) {
      overlay.remove();
      if (cancelled) { deferred.reject(); }
      $(document).off("keydown." + id);
      if (previous && previous.focus) { previous.focus(); }
    }
    form.on("submit", function (event) {
      event.preventDefault();
      var values = {};
      $.each(form.serializeArray(), function (i, field) { values[field.name] = field.value; });
      var check = options.validate ? options.validate(values, form) : null;
      if (check) { errorBox.text(check); return; }
      close();
      deferred.resolve(values, form);
    });
    $(document).on("keydown." + id, function (event) {
      if (event.key === "Escape") { close(true); }
      if (event.key === "Tab") {  // keep focus inside the dialog
        var focusable = box.find("input, select, textarea, button").filter(":visible");
        if (!focusable.length) { return; }
        var first = focusable[0], last = focusable[focusable.length - 1];
        if (event.shiftKey && document.activeElement === first) { last.focus(); event.preventDefault(); } else if (!event.shiftKey && document.activeElement === last) { first.focus(); event.preventDefault(); }
      }
    });
    $("body").append(overlay);
    var target = box.find("input, select, textarea").first();
    (target.length ? target : box.find("button").first()).trigger("focus");
    return deferred.promise();
  }

  function confirm(title, text, options) {
    return dialog(title, el("p", {text: text}), options);
  }

  /* A labelled field; kind is input type, "select" (options [{value, label}]) or "textarea". */
  function field(name, label, kind, options) {
    options = options || {};
    var id = "f-" + name + "-" + Math.random().toString(36).slice(2, 7);
    var control;
    if (kind === "select") {
      control = el("select", {id: id, name: name, required: options.required});
      $.each(options.choices || [], function (i, c) {
        control.append(el("option", {value: c.value, text: c.label, selected: c.value === options.value}));
      });
    } else if (kind === "textarea") {
      control = el("textarea", {id: id, name: name, rows: options.rows || 5, required: options.required});
      control.val(options.value || "");
    } else {
      control = el("input", {id: id, name: name, type: kind || "text", required: options.required, autocomplete: options.autocomplete || "off", min: options.min, accept: options.accept});
      if (options.value !== undefined) { control.val(options.value); }
    }
    var help = options.help ? el("small", {id: id + "-help", cls: "help", text: options.help}) : null;
    if (help) { control.attr("aria-describedby", id + "-help"); }
    return el("div", {cls: "field"}, [el("label", {"for": id, text: label}), control, help]);
  }

  /* A table with a caption; rows are arrays of cells (strings or elements). */
  function table(caption, headers, rows, options) {
    options = options || {};
    var head = el("tr", {}, $.map(headers, function (h) { return el("th", {scope: "col", text: h}); }));
    var body = el("tbody");
    $.each(rows, function (i, cells) { body.append(row(cells, null, headers)); });
    var tbl = el("table", {cls: "list " + (options.cls || "")}, [
      el("caption", {cls: options.showCaption ? "" : "visually-hidden", text: caption}), el("thead", {}, [head]), body
    ]);
    return el("div", {cls: "table-wrap"}, [tbl]);
  }

  function row(cells, attrs, headers) {
    var tr = el("tr", attrs);
    $.each(cells, function (i, cell) {
      var content = cell instanceof $ ? cell : document.createTextNode(cell === null || cell === undefined ? "" : String(cell));
      tr.append(el("td", {"data-label": headers ? headers[i] : null}, [content]));
    });
    return tr;
  }

  /* A usage bar: used/limit (limit -1 means unlimited). */
  function bar(label, used, limit) {
    var unlimited = limit === undefined || limit === null || limit < 0;
    var percent = unlimited || limit === 0 ? 0 : Math.min(100, Math.round(100 * used / limit));
    var text = unlimited ? t("quotas.unlimited", {used: used}) : t("quotas.usage", {used: used, limit: limit});
    var id = "bar-" + Math.random().toString(36).slice(2, 7);
    var level = percent >= 90 ? "high" : percent >= 70 ? "mid" : "low";
    return el("div", {cls: "bar"}, [
      el("div", {cls: "bar-label"}, [el("span", {id: id, text: label}), el("span", {cls: "bar-text", text: text})]),
      el("div", {cls: "bar-track " + level, role: "meter", "aria-labelledby": id, "aria-valuemin": 0, "aria-valuemax": unlimited ? used : limit, "aria-valuenow": used, "aria-valuetext": text}, [
        el("div", {cls: "bar-fill"}).css("width", percent + "%")
      ])
    ]);
  }

  function button(text, handler, cls, attrs) {
    return el("button", $.extend({type: "button", cls: cls || "secondary", text: text, on: {click: handler}}, attrs || {}));
  }

  function page(title, actions) {
    var main = $("#main").empty();
    var header = el("div", {cls: "page-head"}, [el("h1", {text: title}), el("div", {cls: "page-actions"}, actions || [])]);
    main.append(header);
    document.title = title + " · Cyclades";
    return main;
  }

  function loading() { return el("p", {cls: "loading", text: t("common.loading")}); }

  function time(value) {
    if (!value) { return ""; }
    var d = new Date(value);
    return isNaN(d.getTime()) ? String(value) : d.toLocaleString();
  }

  function bytes(n) {
    if (n === null || n === undefined) { return ""; }
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + units[i];
  }

  Cyc.ui = {el: el, notice: notice, alert: alert, clearAlerts: clearAlerts, failed: failed, dialog: dialog, confirm: confirm,
    field: field, table: table, row: row, bar: bar, button: button, page: page, loading: loading, time: time, bytes: bytes};
})(jQuery);
