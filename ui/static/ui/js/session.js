/* Logging in (user name and password, then the project when there are several), logging out,
 * switching project, and renewing the session before the token expires.
 *
 * Keystone does not extend a token, and a token made from a token keeps its parent's expiry,
 * so renewal is a new password login into the same project: shortly before expiry the user is
 * asked for the password (which is never stored), and a 401 from any service brings back the
 * login form with the reason. */
(function ($) {
  "use strict";
  var t = Cyc.t, ui = Cyc.ui, api = Cyc.api;
  var RENEW_BEFORE_MS = 10 * 60 * 1000;
  var renewTimer = null;
  var asking = false;

  function loginForm(message) {
    var main = ui.page(t("login.title"));
    $("#nav, #who").attr("hidden", true).empty();
    if (message) { main.append(ui.el("p", {cls: "info", text: message})); }
    var error = ui.el("p", {cls: "field-error", role: "alert", id: "login-error"});
    var submit = ui.el("button", {type: "submit", cls: "primary", text: t("login.submit")});
    var form = ui.el("form", {cls: "login", "aria-describedby": "login-error"}, [
      ui.field("username", t("login.username"), "text", {required: true, autocomplete: "username"}),
      ui.field("password", t("login.password"), "password", {required: true, autocomplete: "current-password"}),
      error, submit
    ]);
    form.on("submit", function (event) {
      event.preventDefault();
      var username = form.find("[name=username]").val();
      var password = form.find("[name=password]").val();
      error.text("");
      submit.prop("disabled", true).text(t("login.busy"));
      login(username, password).fail(function (e) {
        error.text(e.message);
        submit.prop("disabled", false).text(t("login.submit"));
        form.find("[name=password]").trigger("focus");
      });
    });
    main.append(form);
    form.find("[name=username]").trigger("focus");
  }

  /* Unscoped login, then the project: the only one at once, or the chooser. */
  function login(username, password) {
    return api.issue(api.passwordIdentity(username, password)).then(function (unscoped) {
      api.use(unscoped);
      return api.projects().then(function (projects) {
        if (!projects.length) {
          api.use(null);
          return $.Deferred().reject(new api.ApiError(403, t("project.none"), "identity")).promise();
        }
        if (projects.length === 1) {
          return enter(username, password, projects[0]);
        }
        chooser(projects, function (project) { return enter(username, password, project); });
        return null;
      });
    });
  }

  function enter(username, password, project) {
    return api.issue(api.passwordIdentity(username, password), project).then(function (scoped) {
      scoped.projects = api.session() && api.session().projects;
      api.use(scoped);
      started();
    });
  }

  function chooser(projects, choose) {
    var main = ui.page(t("project.title"));
    var session = api.session();
    session.projects = $.map(projects, function (p) { return {id: p.id, name: p.name}; });
    api.use(session);
    var error = ui.el("p", {cls: "field-error", role: "alert"});
    var form = ui.el("form", {cls: "login"}, [
      ui.el("p", {text: t("project.intro")}),
      ui.field("project", t("project.label"), "select", {choices: $.map(projects, function (p) { return {value: p.id, label: p.name}; })}),
      error, ui.el("button", {type: "submit", cls: "primary", text: t("project.submit")})
    ]);
    form.on("submit", function (event) {
      event.preventDefault();
      var id = form.find("[name=project]").val();
      var project = $.grep(projects, function (p) { return p.id === id; })[0];
      choose(project).fail(function (e) { error.text(e.message); });
    });
    main.append(form);
    form.find("select").trigger("focus");
  }

  function switchProject() {
    var session = api.session();
    var choices = $.map(session.projects || [], function (p) { return {value: p.id, label: p.name}; });
    ui.dialog(t("project.switch"), ui.field("project", t("project.label"), "select", {choices: choices, value: session.project.id}), {submit: t("project.submit")})
      .done(function (values) {
        var project = $.grep(session.projects, function (p) { return p.id === values.project; })[0];
        var projects = session.projects;
        api.rescope(project).done(function (s) { s.projects = projects; api.use(s); started(); }).fail(ui.failed());
      });
  }

  function logout() {
    stopRenewal();
    Cyc.app.stop();
    api.logout().always(function () {
      location.hash = "";
      loginForm(t("login.loggedOut"));
    });
  }

  function stopRenewal() {
    if (renewTimer) { clearTimeout(renewTimer); renewTimer = null; }
  }

  function scheduleRenewal() {
    stopRenewal();
    var session = api.session();
    if (!session) { return; }
    var wait = new Date(session.expiresAt).getTime() - Date.now() - RENEW_BEFORE_MS;
    renewTimer = setTimeout(askRenewal, Math.max(0, Math.min(wait, 2147483000)));
  }

  function askRenewal() {
    var session = api.session();
    if (!session || asking) { return; }
    asking = true;
    var body = ui.el("div", {}, [
      ui.el("p", {text: t("session.renewText", {time: ui.time(session.expiresAt)})}),
      ui.field("password", t("login.password"), "password", {required: true, autocomplete: "current-password"})
    ]);
    ui.dialog(t("session.renewTitle"), body, {submit: t("session.renew")}).always(function () { asking = false; }).done(function (values) {
      var projects = session.projects;
      api.issue(api.passwordIdentity(session.user.name, values.password, session.user.domain), session.project).done(function (s) {
        s.projects = projects;
        api.use(s);
        scheduleRenewal();
        ui.notice(t("session.renewed", {time: ui.time(s.expiresAt)}));
      }).fail(ui.failed());
    });
    // cancelling leaves the session as it is; a 401 later brings the login form
  }

  function expired() {
    if (!api.session()) { return; }
    stopRenewal();
    Cyc.app.stop();
    api.use(null);
    loginForm(t("login.expired"));
  }

  function header() {
    var session = api.session();
    var who = $("#who").empty().attr("hidden", false);
    who.append(ui.el("span", {cls: "who-text", text: t("session.user", {user: session.user.name, project: session.project.name})}));
    if ((session.projects || []).length > 1) {
      who.append(ui.button(t("project.switch"), switchProject, "link", {id: "switch-project"}));
    }
    who.append(ui.button(t("session.logout"), logout, "link", {id: "logout"}));
  }

  function started() {
    header();
    scheduleRenewal();
    Cyc.app.start();
  }

  api.onExpired(expired);

  Cyc.session = {loginForm: loginForm, started: started, logout: logout, askRenewal: askRenewal};
})(jQuery);
