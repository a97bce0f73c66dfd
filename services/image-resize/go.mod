module github.com/blocpress/blocpress/services/image-resize

go 1.26.0

replace (
	github.com/blocpress/blocpress/libs => ../../libs
	github.com/blocpress/blocpress/proto => ../../proto
)

require (
	github.com/disintegration/imaging v1.6.2 // indirect
	golang.org/x/image v0.47.0 // indirect
)
