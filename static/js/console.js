// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // Show the mixed-access warning and the password fields only when they apply.
  const access = document.querySelectorAll("input[name=access]");
  const warn = document.getElementById("mixed-access-warning");
  const consoleFields = document.getElementById("console-fields");
  const sync = () => {
    const value = document.querySelector("input[name=access]:checked")?.value;
    if (warn) warn.hidden = value !== "both";
    if (consoleFields) consoleFields.hidden = value === "programmatic";
  };
  access.forEach((el) => el.addEventListener("change", sync));
  if (access.length) sync();
});
