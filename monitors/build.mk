# monitors/ — event core and wire protocol (owned by the events/network engineer).
EVENT_SRCS := monitors/event.c monitors/event_ring.c monitors/event_json.c

HV_SRCS += $(EVENT_SRCS)

UNIT_TESTS += test_event
test_event_SRCS := tests/unit/test_event.c $(EVENT_SRCS)
test_event_LIBS := -lpthread
