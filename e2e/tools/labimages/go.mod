// The lab's own pod images: the sandbox process (pause) and a tiny HTTP backend (echo). Standard
// library only, so it builds offline and every byte in the images is ours.
module metallb-ts/e2e/tools/labimages

go 1.22
