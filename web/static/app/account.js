// Who is signed in (the header's account box, from `me`), signing out, and the controls a role may not use.
import { signOut } from "./api.js";

/** What `me` grants, in the page's words (the account box's tooltip). */
const GRANTS = [
  ["canWrite", "可修改数据 / may edit data", "只读 / read-only"],
  ["canDownloadAudits", "可下载审计工作簿 / may download audit workbooks", "不可下载审计工作簿 / no audit workbooks"],
  ["canReadAuditLog", "可查看审计日志 / may read the audit log", ""],
  ["seesPersonalData", "可见未脱敏个人信息 / sees personal data unmasked", "个人信息已脱敏 / personal data masked"],
];

/** Show the signed-in account (name, role in Chinese and English, scope) and wire its sign-out button. */
export function showAccount(box, me) {
  if (!me) {
    box.hidden = true;
    return;
  }
  box.querySelector("#account-name").textContent = me.name || me.login;
  box.querySelector("#account-role").textContent = `${me.roleName} / ${me.role}`;
  const scope = box.querySelector("#account-scope");
  scope.textContent = me.scope.name ?? me.scope.code;
  scope.title = `范围 / scope: ${me.scope.code}`;
  const granted = GRANTS.map(([key, yes, no]) => (me[key] ? yes : no)).filter(Boolean);
  box.querySelector(".who").title = [`登录名 / login: ${me.login}`, ...granted].join("\n");
  box.dataset.login = me.login;
  box.dataset.role = me.role;
  const button = box.querySelector("#sign-out");
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = "正在退出… / signing out…";
    await signOut();
  });
  box.hidden = false;
}

/** Controls marked `data-needs="<grant>"` (a `me` field) are removed from view unless `me` grants it. */
export function applyGrants(root, me) {
  for (const el of root.querySelectorAll("[data-needs]")) el.hidden = !(me && me[el.dataset.needs]);
}
