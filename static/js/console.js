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

// One-time secret reveal: copy buttons and a CSV download built in the browser.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch (err) {
        const range = document.createRange();
        range.selectNodeContents(document.getElementById(button.dataset.copy));
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  });
  const download = document.getElementById("download-csv");
  const panel = document.getElementById("secret-panel");
  if (download && panel) {
    download.addEventListener("click", () => {
      const id = panel.dataset.keyId;
      const csv = `AccessKey ID,AccessKey Secret\n${id},${panel.dataset.keySecret}\n`;
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      link.download = `accesskey-${id}.csv`;
      link.click();
      URL.revokeObjectURL(link.href);
    });
  }
});

// Recovery codes: download as a text file.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("download-codes");
  if (!button) return;
  button.addEventListener("click", () => {
    const text = document.getElementById("recovery-codes").textContent;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = "iamconsole-recovery-codes.txt";
    link.click();
    URL.revokeObjectURL(link.href);
  });
});
