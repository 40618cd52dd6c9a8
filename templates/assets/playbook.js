// Accessibility fixes to the theme's markup that CSS cannot make (axe-core checks them).
(function () {
  function fix() {
    // The search overlay is a dialog: give it a name.
    document.querySelectorAll('.md-search[role="dialog"]').forEach(function (d) {
      d.setAttribute('aria-label', 'Search');
    });
    // Task-list checkboxes: labelled by their item's text.
    document.querySelectorAll('.task-list-item input[type="checkbox"]').forEach(function (box) {
      var item = box.closest('li');
      var text = item ? item.textContent.replace(/\s+/g, ' ').trim() : '';
      if (text) box.setAttribute('aria-label', text);
    });
    // A table still wider than a phone scrolls in its wrapper: let the keyboard scroll it.
    document.querySelectorAll('.md-typeset__scrollwrap').forEach(function (w) {
      if (w.scrollWidth > w.clientWidth + 1) { w.setAttribute('tabindex', '0'); w.setAttribute('role', 'region');
        w.setAttribute('aria-label', 'Table (scrolls sideways)'); }
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fix); else fix();
})();
