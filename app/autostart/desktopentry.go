package autostart

import "strings"

// desktopEntry is the XDG autostart file for it.
func desktopEntry(it Item) string {
	name := it.Name
	if name == "" {
		name = it.ID
	}
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=" + escapeDesktopValue(name) + "\n")
	b.WriteString("Exec=" + execLine(it.Command) + "\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	b.WriteString("Hidden=false\n")
	b.WriteString("NoDisplay=false\n")
	return b.String()
}

// execLine quotes a command for a desktop entry's Exec key, following the
// Desktop Entry Specification: an argument with reserved characters goes in
// double quotes with ", `, $ and \ escaped, and every % is doubled so it is
// not read as a field code. The whole value is then escaped as a string.
func execLine(cmd []string) string {
	parts := make([]string, len(cmd))
	for i, arg := range cmd {
		arg = strings.ReplaceAll(arg, "%", "%%")
		if arg == "" || strings.ContainsAny(arg, " \t\n\"'\\><~|&;$*?#()`=") {
			var q strings.Builder
			q.WriteByte('"')
			for _, r := range arg {
				if r == '"' || r == '`' || r == '$' || r == '\\' {
					q.WriteByte('\\')
				}
				q.WriteRune(r)
			}
			q.WriteByte('"')
			arg = q.String()
		}
		parts[i] = arg
	}
	return escapeDesktopValue(strings.Join(parts, " "))
}

// escapeDesktopValue escapes a string value: backslash, and the control
// characters a line-based file cannot hold.
func escapeDesktopValue(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	return r.Replace(s)
}

// desktopEntryExec reads back the Exec line desktopEntry wrote, to tell
// whether an entry still points at the same command.
func desktopEntryExec(entry string) string {
	for _, line := range strings.Split(entry, "\n") {
		if v, ok := strings.CutPrefix(line, "Exec="); ok {
			return v
		}
	}
	return ""
}
