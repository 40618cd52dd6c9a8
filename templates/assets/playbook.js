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
    // Tables of four or more columns reflow into one card per row on a phone (playbook.css):
    // each cell is named by its column's header.
    document.querySelectorAll('.md-typeset table:not([class])').forEach(function (t) {
      var heads = Array.prototype.map.call(t.querySelectorAll('thead th'), function (th) {
        return th.textContent.replace(/\s+/g, ' ').trim(); });
      if (heads.length < 4) return;
      t.setAttribute('data-reflow', '');
      t.querySelectorAll('tbody tr').forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) {
          if (heads[i]) td.setAttribute('data-label', heads[i]); });
      });
    });
    // A table still wider than a phone scrolls in its wrapper: let the keyboard scroll it.
    document.querySelectorAll('.md-typeset__scrollwrap').forEach(function (w) {
      if (w.scrollWidth > w.clientWidth + 1) { w.setAttribute('tabindex', '0'); w.setAttribute('role', 'region');
        w.setAttribute('aria-label', 'Table (scrolls sideways)'); }
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fix); else fix();
})();
