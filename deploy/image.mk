# The installer image and the DaemonSet (deploy/README.md), included from the Makefile after
# apt_install and test-services are defined.
#   make image              binfmt-bottle/installer:VERSION (VERSION: binfmt-reg --version)
#   make image-check        deploy/test.sh: the image against this host's binfmt_misc, and the
#                           DaemonSet validated and its pod spec run under dockerd
#   make image-test-deps    kubernetes-validate in $(K8S_VENV)
# IMAGE_BINFMT_REG is the binary the image ships and IMAGE_BINARY the target that builds it:
# release-static's, glibc linked in too (-static-executable), so that the image holds binfmt-reg
# and runbottle and nothing else. (The package keeps make release's, which loads libc: a static
# Swift executable aborts where /proc is not mounted, as in a fresh chroot; a container has it.)
IMAGE_BINFMT_REG ?= $(CURDIR)/.build-image/release/binfmt-reg
IMAGE_BINARY ?= release-static
K8S_VENV ?= /srv/k8s-venv
KUBERNETES_VALIDATE_VERSION ?= 1.37.0

.PHONY: image image-check image-test-deps release-static

release-static: $(STATIC_LIBS)/libcap.pc
	$(SWIFT) build -c release --product binfmt-reg --scratch-path .build-image --static-swift-stdlib \
	    --pkg-config-path $(STATIC_LIBS) -Xswiftc -static-executable -Xlinker -s

image: $(IMAGE_BINARY)
	bash deploy/image/build.sh $(IMAGE_BINFMT_REG)

image-test-deps:
	$(call apt_install,python3-venv docker.io gcc util-linux binutils)
	@[ -x $(K8S_VENV)/bin/kubernetes-validate ] || { \
	  python3 -m venv $(K8S_VENV) && \
	  $(K8S_VENV)/bin/pip install -q kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION); }

image-check: $(IMAGE_BINARY) image-test-deps test-services
	bash deploy/test.sh $(IMAGE_BINFMT_REG)
