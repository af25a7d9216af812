// The chat page without reloads: forms are sent in the background and the server's rendered messages
// swapped in. Without this file every form still works (the server redirects back to the page).
"use strict";
(function () {
  const log = document.getElementById("log");
  const toast = document.getElementById("toast");
  const said = document.querySelector("#say textarea");
  let queue = Promise.resolve(); // this page's messages go out one after another, in order
  let toastTimer = 0;

  function nonce() { // the turn's id: a resend after a dropped connection is not applied twice
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function fragment(html) {
    const holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content.firstElementChild;
  }

  function showNotice(text) {
    if (!text) return;
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 3500);
  }

  function markOpened(root) {
    root.querySelectorAll("button.source").forEach((button) => {
      const open = Array.from(button.closest(".buttons").querySelectorAll(".passage"))
        .some((p) => p.dataset.key === button.value && !p.hidden);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function apply(body) {
    for (const [id, html] of Object.entries(body.rewritten || {})) {
      const old = document.getElementById("m" + id);
      if (old) { const fresh = fragment(html); old.replaceWith(fresh); markOpened(fresh); }
    }
    let last = null;
    for (const html of body.added || []) {
      last = fragment(html);
      log.insertBefore(last, document.getElementById("end"));
      markOpened(last);
    }
    if (body.toolbar) document.getElementById("tools").replaceWith(fragment(body.toolbar));
    showNotice(body.notice);
    if (last) last.scrollIntoView({ block: "start" });
  }

  function pending(text) {
    const row = fragment('<article class="msg bot pending"><div class="bubble"><p class="text"></p></div></article>');
    row.querySelector(".text").textContent = text;
    log.insertBefore(row, document.getElementById("end"));
    row.scrollIntoView({ block: "end" });
    return row;
  }

  async function post(data, tries) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch("/send", { method: "POST", body: data, headers: { "X-Zhibu-Fetch": "1" }, credentials: "same-origin" });
      } catch (error) { // no answer at all: send the same turn again (same id), then give up
        if (attempt >= tries) throw error;
        await new Promise((done) => setTimeout(done, 800 * attempt));
      }
    }
  }

  function send(form, submitter) {
    const data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    data.set("nonce", nonce());
    const typed = form.id === "say";
    const waiting = pending(typed ? "正在查阅政策文件……" : "正在处理……");
    document.body.classList.add("busy");
    queue = queue.then(async () => {
      try {
        const response = await post(data, 3);
        const body = await response.json();
        if (body.ended) { window.location.reload(); return; }
        apply(body);
        if (typed && response.ok) { said.value = ""; said.style.height = ""; }
      } catch (error) {
        showNotice("网络连接失败，消息没有发出。请检查网络后重试。");
      } finally {
        waiting.remove();
        document.body.classList.remove("busy");
      }
    });
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.getAttribute("action") !== "/send") {
      const ask = event.submitter && event.submitter.dataset.confirm;
      if (ask && !window.confirm(ask)) event.preventDefault();
      return;
    }
    event.preventDefault();
    const submitter = event.submitter;
    if (submitter && submitter.classList.contains("source")) { // 查看原文: open or close it in place
      const shown = Array.from(form.querySelectorAll(".passage")).find((p) => p.dataset.key === submitter.value);
      if (shown) {
        shown.hidden = !shown.hidden;
        submitter.setAttribute("aria-expanded", shown.hidden ? "false" : "true");
        return;
      }
    }
    if (form.id === "say" && !said.value.trim()) return;
    send(form, submitter);
  });

  said.addEventListener("keydown", (event) => { // Enter sends, Shift+Enter starts a new line
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      said.form.requestSubmit();
    }
  });
  said.addEventListener("input", () => { said.style.height = ""; said.style.height = said.scrollHeight + "px"; });

  markOpened(document);
  const end = document.getElementById("end");
  if (end) end.scrollIntoView({ block: "end" });
})();
