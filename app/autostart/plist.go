package autostart

import (
	"encoding/xml"
	"strings"
)

// launchAgent is the macOS LaunchAgent property list for it: run the
// command once at login, not again when it quits.
func launchAgent(it Item) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString(`<plist version="1.0">` + "\n<dict>\n")
	b.WriteString("\t<key>Label</key>\n\t<string>" + xmlText(it.ID) + "</string>\n")
	b.WriteString("\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, arg := range it.Command {
		b.WriteString("\t\t<string>" + xmlText(arg) + "</string>\n")
	}
	b.WriteString("\t</array>\n")
	b.WriteString("\t<key>RunAtLoad</key>\n\t<true/>\n")
	b.WriteString("\t<key>ProcessType</key>\n\t<string>Interactive</string>\n")
	b.WriteString("</dict>\n</plist>\n")
	return b.String()
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writing to a strings.Builder cannot fail
	return b.String()
}

// launchAgentArgs reads ProgramArguments back from a plist launchAgent wrote.
func launchAgentArgs(plist string) []string {
	dec := xml.NewDecoder(strings.NewReader(plist))
	var args []string
	inArgs, lastKey, inString := false, "", false
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return args
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "array":
				inArgs = lastKey == "ProgramArguments"
			case "string", "key":
				inString = true
				text.Reset()
			}
		case xml.CharData:
			if inString {
				text.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "key":
				lastKey = text.String()
				inString = false
			case "string":
				if inArgs {
					args = append(args, text.String())
				}
				inString = false
			case "array":
				inArgs = false
			}
		}
	}
}
