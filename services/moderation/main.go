// Command moderation decides whether a submitted article may be published,
// and runs the review desk where people decide on the articles it holds.
//
// For each article.submitted event it checks the revision against its
// tenant's rules (libs/tenant.Moderation, watched in the "tenants" bucket so
// a change applies without a restart): required fields and lengths, links
// to listed domains only, blocklisted terms, official names, the
// capitalisation of "Đảng", common misspellings, look-alike letters and
// near-duplicates of the tenant's other articles. Text is matched the way
// Vietnamese is written (internal/vntext, internal/phrase): NFC, any case,
// any tone placement, look-alike letters read as what they imitate, whole
// syllables and phrases only, all of a tenant's phrases in one
// Aho-Corasick pass. The verdict — approve, hold or reject, with findings
// located by rune offsets in the NFC text — is recorded in the "moderation"
// bucket and in the AUDIT stream, and published as article.approved (with
// the whole article), article.held or article.rejected.
//
// Reviewers sign in at /desk/ with a reviewer key (or call /v1/…/review
// with it), see the held articles oldest first, each with its findings
// marked in a preview of the page, and approve or reject it with a note;
// the decision is applied once (compare-and-set on the record), published
// down the pipeline and appended to the audit trail.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "moderation:", err)
		os.Exit(1)
	}
}
