// Applies the theme remembered by the theme switch before the page paints, so a reload keeps
// the choice without a flash. The switch itself (app/src/components/theme.rs) needs the
// hydrated app; this file only reads.
(function () {
  try {
    var theme = window.localStorage.getItem("gatehouse-theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) {
    // Storage disabled: follow the system setting.
  }
})();
