// The sign-in form: keep `?next=` (where to go back to) and show why the last attempt failed.
const params = new URLSearchParams(window.location.search);
const next = params.get("next");
if (next && next.startsWith("/") && !next.startsWith("//")) {
  document.getElementById("next").value = next;
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
}
