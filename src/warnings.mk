# src/warnings.mk — included by the extension's and zd's Makefiles.
# make WERROR=1 turns every warning into an error; tools/test.sh, and so CI,
# builds that way, so that no warning lands unseen.
ifdef WERROR
override PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter
endif
