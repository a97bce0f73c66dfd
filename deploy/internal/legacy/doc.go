// Package legacy reads the text dumps of articles from the provincial
// Party-bloc websites that blocpress replaces (see testdata/seeds) and turns
// them into structured articles for ingest's import API.
//
// A dump is what a browser's "select all, copy" or a text scraper gives: the
// article's lines mixed with site chrome — banners, menus, breadcrumbs, the
// font-size switcher, "Tin liên quan" lists, gold-price and exchange-rate
// widgets, footers. Nothing marks which line is what, so [Parse] works from
// the shape of the text, never from one site's exact strings:
//
//   - The date line is the short line that holds a date and little else
//     (a weekday, a label such as "Đăng ngày", a time, a view count); when
//     several are near the top, the one labelled as publication or carrying
//     a time or counter wins over a bare "today" line. Around it sits the
//     header: the title is the last line before it unless that line looks
//     like a section name (short, in capitals, or much shorter than the
//     line after the date) and the line after the date reads as a title, as
//     on sites that print section, date, then title. The section name
//     before the title is the category; "Chuyên mục: …" and breadcrumbs
//     ("Trang chủ > Tin tức > …") beat position.
//   - The article ends at the first heading of a related-articles list, a
//     widget or the footer ("Các bài viết khác", "Tin liên quan", "Website liên
//     kết", "Giá vàng", "Bản quyền"…); chrome lines inside it are dropped.
//   - From the end, a "Theo: …"/"Nguồn: …" line is the source and a short
//     line that starts with a capitalised name is the author's byline.
//   - A date, a view counter or "Từ khóa: …" (tags) printed under the
//     article are read there when the header had none.
//   - A short, single-sentence line among the paragraphs is a photo caption;
//     a caption broken over several lines is joined; "Ảnh: …" is its credit;
//     a line repeating the title or the previous caption (a photo's alt text)
//     is dropped. The first paragraph is the lead.
//
// Dates are read in Asia/Ho_Chi_Minh unless the text gives a zone; "16:30 PM"
// is 16:30. A date without a time of day is midnight, with a warning.
//
// Photos: dumps hold captions but not the image files. The importer keeps
// every caption, with its credit, as text ([Block.Text] and [Block.Credit],
// rendered as a paragraph "caption (Ảnh: credit)") so that nothing the page
// said is lost; when the operator has the photo files, the importer's --photos
// option attaches them to the captions in order (see cmd/blocpress).
//
// The parser never fails on odd text: what it cannot find it leaves empty
// and names in [Article.Warnings]. Only a dump without a title or without
// any text is an error ([ErrNoTitle], [ErrNoBody]).
package legacy
