from .prior_figure import compose_figure, prior_figure_rows
from .prior_maps import (canonical_labels, colorize_labels, kmeans_labels,
                         kmeans_prior_map, kmeans_prior_maps, match_labels)

__all__ = [
    'kmeans_prior_map', 'kmeans_prior_maps', 'kmeans_labels',
    'canonical_labels', 'colorize_labels', 'match_labels', 'compose_figure',
    'prior_figure_rows'
]
