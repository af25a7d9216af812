/* 支部管理台: the little the pages need from a script (kept out of the HTML for a strict CSP).
   Every page works without it; it adds the phone menu, confirmations, and signs of life. */
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.getElementById("top").classList.toggle("open", open);
    });
  }

  // The chosen file's name beside the Chinese 选择文件 (the browser's own words may be English).
  document.querySelectorAll(".file-pick input[type=file]").forEach(function (input) {
    input.addEventListener("change", function () {
      input.parentNode.querySelector(".file-name").textContent = input.files.length ? input.files[0].name : "尚未选择";
    });
  });

  // An error or a question about the form below is where the eye goes first.
  var alert = document.querySelector("main section [role=alert]");
  if (alert) { alert.scrollIntoView({block: "center"}); }

  // A form that changes something asks first (data-confirm holds the question, in Chinese).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // A slow form (upload, batch) says it is working and for how long, so nobody clicks twice.
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      var note = form.querySelector(".progress") || form.appendChild(document.createElement("p"));
      note.className = "progress";
      note.setAttribute("role", "status");
      var started = Date.now();
      var show = function () {
        note.textContent = form.dataset.busy + "（已用 " + Math.round((Date.now() - started) / 1000) + " 秒）";
      };
      show();
      window.setInterval(show, 1000);
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });

  // A long form survives a logout in another tab: its fields are kept in this tab until a save succeeds.
  document.querySelectorAll("form[data-keep]").forEach(function (form) {
    var key = "zhibu-draft-" + form.dataset.keep;
    var fields = form.querySelectorAll("input[name]:not([type=hidden]), select[name], textarea[name]");
    if (document.querySelector(".flash.ok")) {
      window.sessionStorage.removeItem(key);
    } else if (form.dataset.fresh) {
      var draft = JSON.parse(window.sessionStorage.getItem(key) || "{}");
      fields.forEach(function (field) { if (draft[field.name]) { field.value = draft[field.name]; } });
    }
    form.addEventListener("input", function () {
      var draft = {};
      fields.forEach(function (field) { draft[field.name] = field.value; });
      window.sessionStorage.setItem(key, JSON.stringify(draft));
    });
  });

  // While the knowledge base is being built at start, the page asks the server how far it is.
  var status = document.getElementById("kb-status");
  if (status) {
    var poll = function () {
      fetch(status.dataset.poll, {credentials: "same-origin"}).then(function (reply) {
        return reply.json();
      }).then(function (state) {
        status.textContent = state.message;
        if (state.ready) {
          status.className = "notice ok";
        } else {
          window.setTimeout(poll, 2000);
        }
      }).catch(function () { window.setTimeout(poll, 5000); });
    };
    window.setTimeout(poll, 1000);
  }
});
