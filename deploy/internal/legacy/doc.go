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
//     ("Trang chủ > Tin tức > …") beat position, and a breadcrumb that ends
//     with the article's own title gives the part before it. A labelled
//     author on the date line ("| Người đăng: Trần Hà |") is the author.
//   - A bare date (no label, time or counter) with a menu between it and
//     the text (three lines or more, two of them short) is the banner's
//     "today" and is ignored. With no date in the header, the title is the
//     heading just above the first paragraph of running text and the
//     category the line above it; a date printed under the article is used.
//   - The article ends at the first heading of a related-articles list, a
//     widget or the footer ("Các bài viết khác", "Tin liên quan", "Website liên
//     kết", "Giá vàng", "Bản quyền"…), or at a title followed by its date in
//     brackets ("… (10/03/2025)") when more such titles, a heading or the
//     end of the page follow: a related list printed without a heading.
//     A marker with a title on the same line ("Xem thêm: …") followed by
//     running text is a link set inside the article: dropped, not an end.
//     Chrome lines inside it are dropped, and so is a toolbar row made only
//     of tool and share-button names ("In bài viết Gửi email Quay lại").
//   - From the end, a "Theo: …"/"Nguồn: …" line is the source and a short
//     line that starts with a capitalised name is the author's byline. A
//     labelled byline ("Tin, ảnh: Thu Hà") is the author wherever it stands,
//     when what follows the label is a name (an interview's "PV: Xin đồng
//     chí cho biết …?" stays text).
//   - A date, a view counter or "Từ khóa: …" (tags) printed under the
//     article are read there when the header had none.
//   - A short, single-sentence line among the paragraphs is a photo caption;
//     a caption broken over several lines is joined; "Ảnh: …" is its credit,
//     also at the end of the caption in brackets ("… (Ảnh: Thu Hà)"), unless
//     what follows "Ảnh:" describes the photo (three words or more, most in
//     lower case: "Ảnh: Quang cảnh hội nghị"), which makes it the caption;
//     a line repeating the title or the previous caption (a photo's alt text)
//     is dropped, and so is a long paragraph printed twice (the lead shown in
//     the header, then in the text). Numbered and bulleted lines ("1. …",
//     "- …", "+ …", "• …") are text, never captions. A sentence of up to 160
//     characters that opens as photo captions do ("Đồng chí" and a name or
//     title, "Các đại biểu …", "Quang cảnh …", "Lãnh đạo …") is a caption
//     even with commas and a full stop. A short single-sentence paragraph without commas
//     (up to 100 characters) also reads as a caption: a dump does not say
//     which lines stood under a photo, and a caption is kept as text anyway.
//     The first paragraph is the lead.
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
