// Package vntext reads Vietnamese text the way a reader sees it, for
// matching: it splits NFC text into syllables (runs of letters and digits)
// and gives each a folded key and an exact form that do not depend on how
// the text was typed.
//
//   - Case is folded, and look-alike letters are read as the letter they
//     imitate: Ð (U+00D0, Icelandic eth) as Đ (U+0110), Cyrillic and Greek
//     а е о р с у х і ο ν … as Latin, fullwidth Ａ as A. A token that holds
//     one is flagged, so a checker can point it out.
//   - The exact form of a syllable is its letters with their vowel-quality
//     marks (â ă ê ô ơ ư đ) plus its tone, wherever the tone mark sits, so
//     the old and new placements (hòa/hoà, thủy/thuỷ) are one syllable. A
//     tone or quality mark left as a combining character (text typed in NFD,
//     or a mark on a look-alike letter that NFC cannot compose) counts the
//     same as a precomposed one.
//   - The folded key drops every mark, đ becoming d, which Unicode
//     decomposition does not do: "Phản Động" and "phan dong" share "phan",
//     "dong".
//   - Format characters (zero-width space and joiners, soft hyphen, BOM,
//     bidi controls) inside a word are ignored, so they cannot split it.
//
// Tokens carry rune offsets into the text they were read from, which
// callers put in NFC first, so that findings can be highlighted in the NFC
// text a page shows.
package vntext

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tones, numbered as Vietnamese schools do: 0 ngang (none), 1 sắc, 2 huyền,
// 3 hỏi, 4 ngã, 5 nặng.
const (
	ToneNone uint8 = iota
	ToneAcute
	ToneGrave
	ToneHook
	ToneTilde
	ToneDot
)

type class uint8

const (
	clHardSep class = iota // punctuation: a phrase does not run across it
	clSoftSep              // white space and hyphens between syllables of a phrase
	clWord                 // a letter or digit
	clMark                 // a combining mark: continues the syllable
	clIgnore               // a format character: invisible, ignored
)

const (
	flagUpper uint8 = 1 << iota
	flagLookAlike
	// flagNFCSafe: NFC quick check "yes" and combining class 0, so a text
	// made only of such runes is NFC.
	flagNFCSafe
	// flagLower: a lower-case letter.
	flagLower
)

// info is what the scanner needs to know about one rune.
type info struct {
	base  rune  // letter: lower case, with quality marks, look-alikes resolved; mark: the mark
	fold  byte  // folded ASCII letter or digit; 0 means "use base's UTF-8"
	tone  uint8 // the tone a precomposed letter or a combining mark carries
	cls   class
	flags uint8
	// tok are the Token flags a letter gives its token (HasLower,
	// LookAlike); keep is Bare when the letter keeps the token bare.
	tok, keep uint8
}

// tableSize covers Latin, Greek, Cyrillic, Vietnamese precomposed letters
// (U+1EA0–U+1EF9) and general punctuation (quotes, dashes, ellipsis).
const tableSize = 0x2100

var table [tableSize]info

// lookAlikes are letters read as the Vietnamese/Latin letter they imitate.
var lookAlikes = map[rune]rune{
	'Ð': 'Đ', 'ð': 'đ', 'Ɖ': 'Đ', 'ɖ': 'đ', 'ı': 'i', 'ɑ': 'a', 'ǀ': 'l',
	// Cyrillic
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T',
	'Х': 'X', 'У': 'Y', 'І': 'I', 'Ј': 'J', 'Ѕ': 'S', 'Ү': 'Y', 'Һ': 'H', 'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W',
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's',
	'ԁ': 'd', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'ү': 'y', 'к': 'k',
	// Greek
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O',
	'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X', 'ο': 'o', 'ν': 'v', 'α': 'a', 'ρ': 'p', 'υ': 'u', 'ι': 'i', 'κ': 'k',
}

// Combining marks with a meaning in Vietnamese.
const (
	markGrave      = '\u0300'
	markAcute      = '\u0301'
	markCircumflex = '\u0302'
	markTilde      = '\u0303'
	markBreve      = '\u0306'
	markHook       = '\u0309'
	markHorn       = '\u031B'
	markDotBelow   = '\u0323'
	markStroke     = '\u0335'
	markLongStroke = '\u0336'
	markGraveTone  = '\u0340'
	markAcuteTone  = '\u0341'
)

func toneOf(mark rune) uint8 {
	switch mark {
	case markAcute, markAcuteTone:
		return ToneAcute
	case markGrave, markGraveTone:
		return ToneGrave
	case markHook:
		return ToneHook
	case markTilde:
		return ToneTilde
	case markDotBelow:
		return ToneDot
	}
	return ToneNone
}

// qualified composes a lower-case base letter with a vowel-quality mark (or
// d with a stroke); other pairs leave the letter as it is.
func qualified(letter, mark rune) rune {
	switch {
	case mark == markCircumflex && letter == 'a':
		return 'â'
	case mark == markCircumflex && letter == 'e':
		return 'ê'
	case mark == markCircumflex && letter == 'o':
		return 'ô'
	case mark == markBreve && letter == 'a':
		return 'ă'
	case mark == markHorn && letter == 'o':
		return 'ơ'
	case mark == markHorn && letter == 'u':
		return 'ư'
	case (mark == markStroke || mark == markLongStroke) && letter == 'd':
		return 'đ'
	}
	return letter
}

// Strip removes a letter's vowel-quality mark (â→a, ơ→o, đ→d …).
func Strip(letter rune) rune {
	switch letter {
	case 'â', 'ă':
		return 'a'
	case 'ê':
		return 'e'
	case 'ô', 'ơ':
		return 'o'
	case 'ư':
		return 'u'
	case 'đ':
		return 'd'
	}
	return letter
}

func init() {
	for r := rune(0); r < tableSize; r++ {
		table[r] = computeFlags(compute(r))
		if s := string(r); utf8.ValidRune(r) && norm.NFC.IsNormalString(s) && norm.NFC.PropertiesString(s).CCC() == 0 &&
			norm.NFC.PropertiesString(s).BoundaryBefore() {
			table[r].flags |= flagNFCSafe
		}
	}
}

func lookup(r rune) info {
	if r < tableSize {
		return table[r]
	}
	return computeFlags(compute(r))
}

func computeFlags(in info) info {
	if in.cls != clWord {
		return in
	}
	if in.flags&flagLower != 0 {
		in.tok |= HasLower
	}
	if in.flags&flagLookAlike != 0 {
		in.tok |= LookAlike
	}
	if in.fold != 0 && in.base < utf8.RuneSelf && in.tone == ToneNone {
		in.keep = Bare
	}
	return in
}

func compute(r rune) info {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
		i := compute(r - 0xFF01 + '!')
		if i.cls == clWord {
			i.flags |= flagLookAlike
		}
		return i
	case unicode.Is(unicode.Cf, r):
		return info{cls: clIgnore}
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
		return info{base: r, tone: toneOf(r), cls: clMark}
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return letterInfo(r)
	case unicode.IsSpace(r) || r == '-' || r == '\u2010' || r == '\u2011':
		return info{cls: clSoftSep}
	}
	return info{cls: clHardSep}
}

func letterInfo(r rune) info {
	i := info{cls: clWord}
	if unicode.IsUpper(r) || unicode.IsTitle(r) {
		i.flags |= flagUpper
	} else if unicode.IsLower(r) {
		i.flags |= flagLower
	}
	m := r
	if x, ok := lookAlikes[r]; ok {
		m, i.flags = x, i.flags|flagLookAlike
	}
	d := []rune(norm.NFD.String(string(m)))
	base := d[0]
	if x, ok := lookAlikes[base]; ok {
		base, i.flags = x, i.flags|flagLookAlike
	}
	base = unicode.ToLower(base)
	letter := base
	for _, mk := range d[1:] {
		if t := toneOf(mk); t != ToneNone {
			if i.tone == ToneNone {
				i.tone = t
			}
			continue
		}
		if q := qualified(letter, mk); q != letter {
			letter = q
			continue
		}
		// Another mark (a diaeresis, a cedilla…) makes another letter.
		if c := []rune(norm.NFC.String(string([]rune{letter, mk}))); len(c) == 1 {
			letter = c[0]
		}
	}
	i.base = letter
	switch {
	case base < utf8.RuneSelf && (base >= 'a' && base <= 'z' || base >= '0' && base <= '9'):
		i.fold = byte(base)
	case base == 'đ':
		i.fold = 'd'
	}
	return i
}

// Token is one syllable (or number, or word of another script) of a text.
type Token struct {
	Start, End   int32 // rune offsets in the text
	BStart, BEnd int32 // byte offsets in the text
	// ID is the folded syllable's id in the dictionary given to Tokenize;
	// 0 when it is not there.
	ID int32
	// Hash is an FNV-1a hash of the folded syllable.
	Hash uint32
	// Exact is a hash of the exact syllable (Syllable.Hash).
	Exact uint64
	Flags uint8
	// Tone is the syllable's tone.
	Tone uint8
}

// SkeletonKey identifies a syllable by its folded letters and its tone: the
// syllables that differ from each other only in vowel-quality marks and đ
// ("động", "dộng", "đọng") share it. h is the FNV-1a hash of the folded key
// (Token.Hash).
func SkeletonKey(h uint32, tone uint8) uint64 { return uint64(h)<<3 | uint64(tone) }

// FoldHash is the FNV-1a hash of a folded key, as Token.Hash.
func FoldHash(key string) uint32 { return fnv(key) }

// Token flags.
const (
	// HardBefore: punctuation stands between this token and the previous one.
	HardBefore uint8 = 1 << iota
	// Capital: the first letter is upper case.
	Capital
	// HasLower: some letter is lower case.
	HasLower
	// LookAlike: some letter is a look-alike of another.
	LookAlike
	// Bare: no tone and no mark, only ASCII letters and digits (see
	// Syllable.Bare).
	Bare
)

// maxKey bounds a folded key; no syllable is that long.
const maxKey = 48

// Tokenize appends the tokens of text (NFC) to toks. dict maps folded
// syllables to ids (see Token.ID); nil gives every token id 0.
func Tokenize(text string, dict *Dict, toks []Token) []Token {
	toks, _ = tokenize(text, dict, toks)
	return toks
}

// TokenizeNFC is Tokenize for text in any normalisation: it returns the
// text in NFC and its tokens. Text that is NFC already (nearly all of it)
// is read once.
func TokenizeNFC(text string, dict *Dict, toks []Token) (string, []Token) {
	out, nfc := tokenize(text, dict, toks)
	if nfc {
		return text, out
	}
	text = norm.NFC.String(text)
	out, _ = tokenize(text, dict, toks[:0])
	return text, out
}

// tokenize also reports whether text is surely NFC. It is the hot loop of
// moderation: one table lookup per rune, UTF-8 decoded by hand for the two-
// and three-byte letters of Vietnamese, a token's keys built as it goes,
// and the token appended in place when a separator ends it.
func tokenize(text string, dict *Dict, toks []Token) ([]Token, bool) {
	var key [maxKey]byte
	var (
		safe    = true
		kl      int
		h       uint32
		xh      uint64 // exact hash of the letters so far
		tone    uint8
		flags   uint8
		complex bool // a combining quality mark: the exact hash is read again
		inTok   bool
		hard    uint8
		tStart  int32 // the token's first rune
		bStart  int   // and byte
		ri      int32
	)
	n := len(text)
	for i := 0; i <= n; ri++ {
		var in info
		start := i
		if i == n {
			in.cls = clHardSep // the end of the text ends the last token
			i++
		} else if c := text[i]; c < utf8.RuneSelf {
			in = table[c]
			i++
		} else {
			r, size := rune(utf8.RuneError), 1
			switch {
			case c >= 0xC2 && c < 0xE0 && i+1 < n && text[i+1]&0xC0 == 0x80:
				r, size = rune(c&0x1F)<<6|rune(text[i+1]&0x3F), 2
			case c >= 0xE0 && c < 0xF0 && i+2 < n && text[i+1]&0xC0 == 0x80 && text[i+2]&0xC0 == 0x80:
				r, size = rune(c&0x0F)<<12|rune(text[i+1]&0x3F)<<6|rune(text[i+2]&0x3F), 3
				if r < 0x800 || r >= 0xD800 && r < 0xE000 {
					r, size = utf8.DecodeRuneInString(text[i:])
				}
			default:
				r, size = utf8.DecodeRuneInString(text[i:])
			}
			i += size
			if r < tableSize {
				in = table[r]
			} else {
				in = computeFlags(compute(r))
			}
			if in.flags&flagNFCSafe == 0 {
				safe = false
			}
		}
		switch in.cls {
		case clWord:
			if !inTok {
				tStart, bStart, flags = ri, start, hard|Bare
				hard, kl, inTok, tone, complex = 0, 0, true, ToneNone, false
				h, xh = 2166136261, exactSeed
				if in.flags&flagUpper != 0 {
					flags |= Capital
				}
			}
			flags = flags&^Bare | flags&in.keep | in.tok
			if tone == ToneNone {
				tone = in.tone
			}
			xh = (xh ^ uint64(in.base)) * exactPrime
			if in.fold != 0 {
				if kl < maxKey {
					key[kl] = in.fold
				}
				kl++
				h = (h ^ uint32(in.fold)) * 16777619
			} else {
				var u [utf8.UTFMax]byte
				for _, b := range u[:utf8.EncodeRune(u[:], in.base)] {
					if kl < maxKey {
						key[kl] = b
					}
					kl++
					h = (h ^ uint32(b)) * 16777619
				}
			}
			continue
		case clMark:
			// Part of the syllable when inside one; stray otherwise.
			if inTok {
				flags &^= Bare
				if in.tone != ToneNone {
					if tone == ToneNone {
						tone = in.tone
					}
				} else {
					complex = true
				}
			}
			continue
		case clIgnore:
			continue
		case clHardSep:
			hard = HardBefore
		}
		if !inTok {
			continue
		}
		// A separator ends the token before it.
		inTok = false
		var exact uint64
		if complex {
			exact = ReadSyllable(text[bStart:start], nil).Hash()
		} else {
			exact = exactHash(xh, tone)
		}
		if tone != ToneNone {
			flags &^= Bare
		}
		var id int32
		if kl <= maxKey && dict != nil {
			id = dict.lookup(h, key[:kl])
		}
		toks = append(toks, Token{Start: tStart, End: ri, BStart: int32(bStart), BEnd: int32(start),
			ID: id, Hash: h, Exact: exact, Flags: flags, Tone: tone})
	}
	return toks, safe
}

// Syllable is a syllable's exact form: its letters (lower case, with quality
// marks, look-alikes resolved) and its tone.
type Syllable struct {
	Letters []rune
	Tone    uint8
}

// ReadSyllable reads the exact form of one token's text, reusing letters.
func ReadSyllable(s string, letters []rune) Syllable {
	letters = letters[:0]
	var tone uint8
	for _, r := range s {
		in := lookup(r)
		switch in.cls {
		case clWord:
			letters = append(letters, in.base)
			if tone == ToneNone {
				tone = in.tone
			}
		case clMark:
			if t := toneOf(in.base); t != ToneNone {
				if tone == ToneNone {
					tone = t
				}
			} else if n := len(letters); n > 0 {
				letters[n-1] = qualified(letters[n-1], in.base)
			}
		}
	}
	return Syllable{Letters: letters, Tone: tone}
}

const (
	exactSeed  = 14695981039346656037
	exactPrime = 1099511628211
)

func exactHash(letters uint64, tone uint8) uint64 {
	return (letters ^ uint64(tone) ^ 0xA5) * exactPrime
}

// Hash is a hash of the exact syllable, which Token.Exact holds for each
// token: equal syllables have equal hashes.
func (s Syllable) Hash() uint64 {
	h := uint64(exactSeed)
	for _, r := range s.Letters {
		h = (h ^ uint64(r)) * exactPrime
	}
	return exactHash(h, s.Tone)
}

// Equal reports whether two syllables are the same, whatever their case,
// tone placement or look-alike letters.
func (s Syllable) Equal(o Syllable) bool {
	if s.Tone != o.Tone || len(s.Letters) != len(o.Letters) {
		return false
	}
	for i, r := range s.Letters {
		if o.Letters[i] != r {
			return false
		}
	}
	return true
}

// Stripped reports whether s is o with some of its marks left out: every
// letter is o's or o's without its quality mark, and the tone is o's or
// none. "phan", "phản", "phàn" are not all alike: "phan" and "phản" are
// stripped forms of "phản", "phàn" is another word.
func (s Syllable) Stripped(o Syllable) bool {
	if s.Tone != ToneNone && s.Tone != o.Tone || len(s.Letters) != len(o.Letters) {
		return false
	}
	for i, r := range s.Letters {
		if r != o.Letters[i] && r != Strip(o.Letters[i]) {
			return false
		}
	}
	return true
}

// Bare reports whether a syllable has no mark at all: no tone, no â ă ê ô
// ơ ư đ, only plain Latin letters and digits, as text typed without a
// Vietnamese keyboard is.
func (s Syllable) Bare() bool {
	if s.Tone != ToneNone {
		return false
	}
	for _, r := range s.Letters {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FoldKey is the folded key of one syllable (the dictionary key of Tokenize).
func FoldKey(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		in := lookup(r)
		if in.cls != clWord {
			continue
		}
		if in.fold != 0 {
			out = append(out, in.fold)
		} else {
			out = utf8.AppendRune(out, in.base)
		}
	}
	return string(out)
}

// Fold returns text in NFC, folded (lower case, no marks, đ→d, look-alikes
// resolved), its syllables separated by single spaces: the input of a naive
// substring search, and a key for comparing titles.
func Fold(text string) string {
	text = norm.NFC.String(text)
	toks := Tokenize(text, nil, nil)
	out := make([]byte, 0, len(text))
	for i, t := range toks {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, FoldKey(text[t.BStart:t.BEnd])...)
	}
	return string(out)
}

// Canonical writes s with its look-alike letters replaced by the letters
// they imitate (keeping case, marks and tone), in NFC: the suggestion for a
// word written with look-alikes.
func Canonical(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if x, ok := lookAlikes[r]; ok {
			r = x
		} else if r >= 0xFF01 && r <= 0xFF5E {
			r = r - 0xFF01 + '!'
		}
		out = append(out, r)
	}
	return norm.NFC.String(string(out))
}

// IsWordRune reports whether r begins or continues a syllable (a letter or
// digit, look-alikes included).
func IsWordRune(r rune) bool { return lookup(r).cls == clWord }

// NFC returns s in Unicode NFC. Text that is NFC already is recognised in
// one quick pass and returned as it is.
func NFC(s string) string {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if lookup(r).flags&flagNFCSafe == 0 {
			return norm.NFC.String(s)
		}
		i += size
	}
	return s
}

// Dict maps folded syllables to ids 1, 2, …: an open-addressing table
// probed with the FNV-1a hash the tokenizer computes anyway, which is
// cheaper than a Go map that would hash every key again.
type Dict struct {
	slots []dictSlot
	keys  []byte
	n     int
}

type dictSlot struct {
	hash uint32
	id   int32
	off  uint32
	n    uint32
}

// NewDict returns an empty dictionary.
func NewDict() *Dict { return &Dict{slots: make([]dictSlot, 64)} }

// Len is the number of syllables in d.
func (d *Dict) Len() int { return d.n }

func fnv(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return h
}

// Add returns the id of a folded key (FoldKey), adding it if new.
func (d *Dict) Add(key string) int32 {
	h := fnv(key)
	if id := d.lookup(h, []byte(key)); id != 0 {
		return id
	}
	if (d.n+1)*2 > len(d.slots) {
		old := d.slots
		d.slots = make([]dictSlot, len(old)*2)
		for _, s := range old {
			if s.id != 0 {
				d.insert(s)
			}
		}
	}
	d.n++
	d.insert(dictSlot{hash: h, id: int32(d.n), off: uint32(len(d.keys)), n: uint32(len(key))})
	d.keys = append(d.keys, key...)
	return int32(d.n)
}

func (d *Dict) insert(s dictSlot) {
	mask := uint32(len(d.slots) - 1)
	for i := s.hash * 0x9E3779B1 & mask; ; i = (i + 1) & mask {
		if d.slots[i].id == 0 {
			d.slots[i] = s
			return
		}
	}
}

func (d *Dict) lookup(h uint32, key []byte) int32 {
	mask := uint32(len(d.slots) - 1)
	for i := h * 0x9E3779B1 & mask; ; i = (i + 1) & mask {
		s := &d.slots[i]
		if s.id == 0 {
			return 0
		}
		if s.hash == h && int(s.n) == len(key) && string(d.keys[s.off:s.off+s.n]) == string(key) {
			return s.id
		}
	}
}
