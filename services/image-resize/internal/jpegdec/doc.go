// Package jpegdec is Go's image/jpeg decoder (Go 1.26, BSD licence: see
// LICENSE) with what image-resize needs to decode a photo fast:
//
//   - DecodeScaled decodes at 1/2, 1/4 or 1/8 of the size through reduced
//     inverse DCTs (scaled.go), as libjpeg's scaled decoding does: a
//     24-megapixel photo whose largest rendition is 1600 pixels wide is
//     decoded as 6 megapixels, at the cost of its entropy decoding and
//     little else.
//   - A look-up table decodes an AC coefficient's Huffman code and magnitude
//     bits in one step when they fit in 9 bits, with a bit buffer refilled a
//     byte at a time without a call per byte (huffman.go: decodeAC, refill).
//   - A progressive JPEG keeps its coefficients in 16 bits, not 32, and
//     each scan touches only its band of them (scan.go).
//   - The pixel limit is checked at the frame header, before any pixel
//     buffer is allocated.
//
// At scale 1 it decodes exactly as image/jpeg does (jpegdec_test.go checks
// pixel by pixel). The rest of the files are unchanged but for the package
// name, so that later fixes in image/jpeg can be carried over by diffing.
// It does not register itself with package image.
package jpegdec
