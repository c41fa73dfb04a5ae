# "SPN w/ edge" (paper Sec. 4.4.2): Canny-like binary edge maps of the full
# image at every pyramid level (1 channel each). No weights.
teacher = dict(
    type='EdgeTeacher',
    num_levels=3,
    mode='canny',
    sigma=1.0,
    low_threshold=0.05,
    high_threshold=0.1)
