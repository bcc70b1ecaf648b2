# events/build.mk — the event core and wire format (below the core and the monitors; docs/EVENTS.md).
EVENT_SRCS := events/event.c events/event_ring.c events/event_json.c events/echo.c
EVENT_RING1_SRCS := events/ring1.c

HV_SRCS += $(EVENT_SRCS) $(EVENT_RING1_SRCS)

UNIT_TESTS += test_event
test_event_SRCS := tests/unit/test_event.c $(EVENT_SRCS)
test_event_LIBS := -lpthread
