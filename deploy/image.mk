# The installer image and the DaemonSet (deploy/README.md), included from the Makefile after
# apt_install and test-services are defined.
#   make image              binfmt-bottle/installer:VERSION (VERSION: binfmt-reg --version)
#   make image-check        deploy/test.sh: the image against this host's binfmt_misc, and the
#                           DaemonSet validated and its pod spec run under dockerd
#   make image-test-deps    kubernetes-validate in $(K8S_VENV)
# IMAGE_BINFMT_REG is the binary the image ships and IMAGE_BINARY the target that builds it:
# make release's, the Swift runtime, libcap and libstdc++ linked in; it still needs glibc's libc
# and libm, which build.sh copies into the image beside it.
IMAGE_BINFMT_REG ?= $(CURDIR)/.build-release/release/binfmt-reg
IMAGE_BINARY ?= release
K8S_VENV ?= /srv/k8s-venv
KUBERNETES_VALIDATE_VERSION ?= 1.37.0

.PHONY: image image-check image-test-deps

image: $(IMAGE_BINARY)
	bash deploy/image/build.sh $(IMAGE_BINFMT_REG)

image-test-deps:
	$(call apt_install,python3-venv docker.io gcc util-linux binutils)
	@[ -x $(K8S_VENV)/bin/kubernetes-validate ] || { \
	  python3 -m venv $(K8S_VENV) && \
	  $(K8S_VENV)/bin/pip install -q kubernetes-validate==$(KUBERNETES_VALIDATE_VERSION); }

image-check: $(IMAGE_BINARY) image-test-deps test-services
	bash deploy/test.sh $(IMAGE_BINFMT_REG)
