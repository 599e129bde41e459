"""Markets across venues: the local catalogue, the cross-venue matcher and the pairs a
person has reviewed (``pairfile``)."""
