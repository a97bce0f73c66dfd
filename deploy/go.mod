module github.com/blocpress/blocpress/deploy

go 1.26.0

replace (
	github.com/blocpress/blocpress/libs => ../libs
	github.com/blocpress/blocpress/proto => ../proto
)
