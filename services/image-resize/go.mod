module github.com/blocpress/blocpress/services/image-resize

go 1.26.0

replace (
	github.com/blocpress/blocpress/libs => ../../libs
	github.com/blocpress/blocpress/proto => ../../proto
)
