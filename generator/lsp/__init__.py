"""The language server behind `playbook lsp`.

`index` finds every id's definition and references in the loaded data, `context`
reads what the cursor is on from the text, `describe` turns the model's field
descriptions into hover text, `workspace` holds open buffers over the disk and
checks a folder exactly as `playbook validate` does, and `server` speaks LSP.
"""
