/* The public APIs, reached only through the Keystone token's catalog.
 *
 * The session (token, its expiry, user, project, catalog) lives in memory and in
 * sessionStorage (this tab only; gone when the tab closes), never in a cookie. Every call
 * sends the token in X-Auth-Token, so no request can ride on ambient credentials (CSRF).
 * Calls return jQuery promises; a failure is rejected with an ApiError whose .message is
 * the API's own fault message in words. */
(function ($) {
  "use strict";
  var STORE = "cyclades.session";
  var config = JSON.parse(document.getElementById("cyclades-config").textContent);
  var session = null;
  var onExpired = function () {};

  var SERVICE_NAMES = {identity: "Identity", compute: "Compute", image: "Image", network: "Network", volumev3: "Block storage", volume: "Block storage"};

  function ApiError(status, message, service, body) {
    this.status = status;
    this.message = message;
    this.service = service;
    this.body = body;
  }
  ApiError.prototype.toString = function () { return this.message; };

  /* The fault's message from any OpenStack error body:
   * Nova/Glance {"badRequest": {"message"}}, Keystone {"error": {"message"}},
   * Neutron {"NeutronError": {"message"}}, Glance's plain text, or the status in words. */
  function faultMessage(xhr, service) {
    var name = SERVICE_NAMES[service] || service;
    if (!xhr || xhr.status === 0) {
      return Cyc.t("error.network", {service: name});
    }
    var body = xhr.responseJSON;
    if (body === undefined && xhr.responseText) {
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = undefined; }
    }
    if (body && typeof body === "object") {
      if (typeof body.message === "string") { return body.message; }
      var keys = Object.keys(body);
      for (var i = 0; i < keys.length; i++) {
        var inner = body[keys[i]];
        if (inner && typeof inner === "object" && typeof inner.message === "string" && inner.message) {
          return inner.message;
        }
      }
    }
    if (xhr.responseText && !/^\s*</.test(xhr.responseText) && xhr.responseText.length < 500) {
      return xhr.responseText.trim();
    }
    return Cyc.t("error.http", {service: name, status: xhr.status, reason: xhr.statusText || ""}).replace(" .", ".");
  }

  function save() {
    if (session) {
      sessionStorage.setItem(STORE, JSON.stringify(session));
    } else {
      sessionStorage.removeItem(STORE);
    }
  }

  function load() {
    try {
      session = JSON.parse(sessionStorage.getItem(STORE) || "null");
    } catch (e) {
      session = null;
    }
    if (session && new Date(session.expiresAt) <= new Date()) {
      session = null;
      save();
    }
    return session;
  }

  /* The public URL of a service type from the catalog (without a trailing slash), or null. */
  function endpoint(type) {
    if (!session || !session.catalog) { return null; }
    for (var i = 0; i < session.catalog.length; i++) {
      var svc = session.catalog[i];
      if (svc.type !== type) { continue; }
      for (var j = 0; j < svc.endpoints.length; j++) {
        var ep = svc.endpoints[j];
        if (ep.interface === "public" && (!config.region || !ep.region_id || ep.region_id === config.region)) {
          return ep.url.replace(/\/+$/, "");
        }
      }
    }
    return null;
  }

  function has(type) {
    return endpoint(type) !== null;
  }

  function ajax(service, base, method, path, body, extra) {
    var settings = $.extend({
      url: base + path,
      method: method,
      dataType: "json",
      // Not jQuery's cache: false, whose "_=<time>" query parameter Glance (like every OpenStack
      // list) reads as a filter: a property "_" no image has. The header asks the browser to
      // revalidate instead.
      headers: {"Cache-Control": "no-cache"}
    }, extra || {});
    settings.headers = $.extend({"Cache-Control": "no-cache"}, settings.headers);
    if (session && session.token) {
      settings.headers["X-Auth-Token"] = session.token;
    }
    if (body !== undefined && body !== null && !settings.processData) {
      settings.data = JSON.stringify(body);
      settings.contentType = "application/json";
    }
    var deferred = $.Deferred();
    $.ajax(settings).done(function (data, status, xhr) {
      deferred.resolve(data === undefined ? null : data, xhr);
    }).fail(function (xhr) {
      if (xhr.status >= 200 && xhr.status < 300) {  // 202/204 with an empty body: not JSON, still a success
        deferred.resolve(null, xhr);
        return;
      }
      var error = new ApiError(xhr.status, faultMessage(xhr, service), service, xhr.responseJSON);
      if (xhr.status === 401 && session && service !== "identity") {
        onExpired(error);
      }
      deferred.reject(error, xhr);
    });
    return deferred.promise();
  }

  /* A call to a catalog service: call("compute", "GET", "/servers/detail"). */
  function call(service, method, path, body, extra) {
    var base = endpoint(service);
    if (base === null) {
      return $.Deferred().reject(new ApiError(0, Cyc.t("error.notFound", {what: service}), service)).promise();
    }
    return ajax(service, base, method, path, body, extra);
  }

  /* GET an absolute URL the API handed out (a "next" link) with the session's token. */
  function absolute(service, url) {
    return ajax(service, "", "GET", url);
  }

  function tokenBody(identity, project) {
    var auth = {identity: identity};
    if (project) { auth.scope = {project: {id: project.id}}; }
    return {auth: auth};
  }

  /* POST /v3/auth/tokens; the new session has the token, expiry, user, project and catalog. */
  function issue(identity, project) {
    var deferred = $.Deferred();
    ajax("identity", config.identity, "POST", "/auth/tokens", tokenBody(identity, project)).done(function (data, xhr) {
      var token = data.token;
      deferred.resolve({
        token: xhr.getResponseHeader("X-Subject-Token"),
        expiresAt: token.expires_at,
        user: {id: token.user.id, name: token.user.name, domain: token.user.domain ? token.user.domain.name : "Default"},
        project: token.project ? {id: token.project.id, name: token.project.name} : null,
        catalog: token.catalog || []
      });
    }).fail(function (error) { deferred.reject(error); });
    return deferred.promise();
  }

  function passwordIdentity(username, password, domain) {
    return {methods: ["password"], password: {user: {name: username, domain: {name: domain || "Default"}, password: password}}};
  }

  function use(newSession) {
    session = newSession;
    save();
    return session;
  }

  /* The projects the (possibly unscoped) session's user may choose. */
  function projects() {
    return ajax("identity", config.identity, "GET", "/auth/projects").then(function (data) {
      return $.grep(data.projects || [], function (p) { return p.enabled !== false; });
    });
  }

  /* Rescope: a token for another project, made from the current one (same expiry). */
  function rescope(project) {
    return issue({methods: ["token"], token: {id: session.token}}, project).then(use);
  }

  function logout() {
    var old = session;
    use(null);
    if (old && old.token) {
      return $.ajax({url: config.identity + "/auth/tokens", method: "DELETE", headers: {"X-Auth-Token": old.token, "X-Subject-Token": old.token}});
    }
    return $.Deferred().resolve().promise();
  }

  /* Follow a paginated list (servers_links/images "next") until the end. */
  function listAll(service, path, key, nextKey) {
    var items = [];
    var deferred = $.Deferred();
    function page(url) {
      var base = endpoint(service);
      var req = url.indexOf("http") === 0 ? ajax(service, "", "GET", url) : call(service, "GET", url);
      req.done(function (data) {
        items = items.concat(data[key] || []);
        var next = null;
        if (nextKey === "next" && data.next) {
          next = data.next.indexOf("http") === 0 ? data.next : base.replace(/\/v2$/, "") + data.next;
        }
        $.each(data[nextKey] || [], function (i, link) { if (link.rel === "next") { next = link.href; } });
        if (next) { page(next); } else { deferred.resolve(items); }
      }).fail(function (error) { deferred.reject(error); });
    }
    page(path);
    return deferred.promise();
  }

  Cyc.api = {
    config: config,
    ApiError: ApiError,
    faultMessage: faultMessage,
    load: load,
    session: function () { return session; },
    endpoint: endpoint,
    has: has,
    call: call,
    absolute: absolute,
    listAll: listAll,
    issue: issue,
    passwordIdentity: passwordIdentity,
    use: use,
    projects: projects,
    rescope: rescope,
    logout: logout,
    onExpired: function (handler) { onExpired = handler; }
  };
})(jQuery);
