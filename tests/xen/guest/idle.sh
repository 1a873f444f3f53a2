# Guest half of scenarios with nothing to do in the guest.
ready
