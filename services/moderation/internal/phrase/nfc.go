package phrase

import "github.com/blocpress/blocpress/services/moderation/internal/vntext"

func nfc(s string) string { return vntext.NFC(s) }
