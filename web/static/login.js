// The sign-in form: keep `?next=` (where to go back to), show why the last attempt failed, and keep the login
// typed (this tab only) so a failed attempt asks for the password alone. No inline script: the page's CSP.
const params = new URLSearchParams(window.location.search);
const next = params.get("next");
const form = document.querySelector("#sign-in form");
const login = document.getElementById("login");
const password = document.getElementById("password");
if (next && next.startsWith("/") && !next.startsWith("//") && !next.includes("\\")) {
  document.getElementById("next").value = next;
  if (next !== "/") {
    const shown = document.getElementById("sign-in-next");
    const target = new URL(next, window.location.origin);
    shown.querySelector("code").textContent = target.pathname + (target.search ? "?…" : "");
    shown.title = next;
    shown.hidden = false;
  }
}
const reasons = {
  401: "登录名或密码错误 / wrong login or password",
  429: "失败次数过多,请稍后再试 / too many failed sign-ins: try again later",
  400: "请填写登录名和密码 / give a login and a password",
};
const error = params.get("error");
if (error) {
  const box = document.getElementById("sign-in-error");
  box.textContent = reasons[error] || reasons[401];
  box.hidden = false;
  const typed = sessionStorage.getItem("grassroots-login");
  if (typed) {
    login.value = typed;
    password.focus();
  }
}
form.addEventListener("submit", () => {
  sessionStorage.setItem("grassroots-login", login.value.trim());
  const button = document.getElementById("sign-in-submit");
  button.disabled = true;
  button.textContent = "正在登录… / signing in…";
});
// Back to this page from the history: the button works again.
window.addEventListener("pageshow", () => {
  const button = document.getElementById("sign-in-submit");
  button.disabled = false;
  button.textContent = "登录 / Sign in";
});
