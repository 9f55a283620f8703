// The server's CSP forbids form submission (form-action 'none'): submit the dashboard's forms with fetch.
"use strict";

// An error answer shown in a form's output: its message, and for an expired session (401) the link to the
// login page with next= this page, so that after logging in the officer comes back here.
async function showError(out, response) {
  let error = null;
  try { error = (await response.json()).error; } catch (e) { /* not JSON */ }
  out.textContent = error && error.message ? error.message : String(response.status);
  if (error && error.login && error.login.href) {
    const link = document.createElement("a");
    link.className = "login-again";
    link.href = error.login.href + "?" + new URLSearchParams({ next: location.pathname + location.search });
    link.textContent = error.login.label;
    out.append(" ", link);
  }
}

// A list file: sent as the raw body, to be checked (form.upload) and then imported (form.import, in the preview).
let chosenFile = null;

async function sendFile(form, action, query) {
  const out = form.querySelector(".form-error");
  const csrf = document.querySelector("form.upload").dataset.csrf;
  const params = new URLSearchParams({ name: chosenFile.name, ...query });
  const response = await fetch(action + "?" + params.toString(), {
    method: "POST", body: chosenFile, credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf, "Content-Type": "application/octet-stream" },
  });
  if (!response.ok) {
    if (out) await showError(out, response);
    return null;
  }
  return response.text();
}

async function uploadSubmitted(form) {
  const input = form.querySelector("input[type=file]");
  chosenFile = input.files[0] || null;
  const target = document.getElementById("preview");
  form.querySelector(".form-error").textContent = "";
  target.innerHTML = "";
  if (!chosenFile) return;
  const html = await sendFile(form, form.getAttribute("action"), {});
  if (html !== null) target.innerHTML = html;  // rendered and escaped by the server's templates
}

async function importSubmitted(form) {
  const accept = form.querySelector("input[name=accept_partial]");
  const query = accept && accept.checked ? { accept_partial: "1" } : {};
  const html = await sendFile(form, form.getAttribute("action"), query);
  if (html !== null) document.getElementById("preview").innerHTML = html;
}

// A form whose request is on its way is not sent again (a double click imported a list twice, and the
// second answer, "nothing new", replaced the first): its buttons are disabled until the answer is in.
async function once(form, send) {
  if (form.dataset.busy) return;
  form.dataset.busy = "1";
  const buttons = form.querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  try {
    await send();
  } finally {
    delete form.dataset.busy;
    for (const b of buttons) b.disabled = false;
  }
}

async function postSubmitted(form, action, data) {
  const response = await fetch(action, { method: "POST", body: data, credentials: "same-origin" });
  if (response.ok) {
    location.assign(response.url);
    return new Promise(() => {});  // the page is being replaced: keep the form disabled
  }
  const out = form.querySelector(".form-error");
  if (out) await showError(out, response);
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  event.preventDefault();
  if (form.classList.contains("upload")) return once(form, () => uploadSubmitted(form));
  if (form.classList.contains("import")) return once(form, () => importSubmitted(form));
  const data = new URLSearchParams(new FormData(form));
  const action = form.getAttribute("action") || location.pathname;
  if (form.method.toLowerCase() !== "post") {
    location.assign(action + "?" + data.toString());
    return;
  }
  return once(form, () => postSubmitted(form, action, data));
});

// Back to a page kept by the browser (the back button): its forms were left disabled while it navigated away.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-busy]")) {
    delete form.dataset.busy;
    for (const b of form.querySelectorAll("button")) b.disabled = false;
  }
});
