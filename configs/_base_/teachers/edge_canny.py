# One teacher variant, selected by name: `model.teacher = dict(
# _base_.edge_canny_teacher, _delete_=True)` (every teacher base has its own
# variable, so several can be bases of one config).
# "SPN w/ edge" (paper Sec. 4.4.2): Canny-like binary edge maps of the full
# image at every pyramid level (1 channel each). No weights.
edge_canny_teacher = dict(
    type='EdgeTeacher',
    num_levels=3,
    mode='canny',
    sigma=1.0,
    low_threshold=0.05,
    high_threshold=0.1)
