//! A uniform grid over the floor: the spatial index that lets a move look only at the
//! people and circles near it instead of the whole room.

use super::model::Point;

/// Buckets of keys by floor cell. Keys are kept in insertion order inside a cell; callers
/// that choose among candidates sort them by an explicit key, so nothing depends on it.
#[derive(Debug, Clone)]
pub(crate) struct Grid<K> {
    /// Side length of a square cell in floor units.
    cell: f32,
    /// Columns and rows covering the floor.
    cols: usize,
    rows: usize,
    /// `rows * cols` buckets, row-major.
    cells: Vec<Vec<K>>,
}

impl<K: Copy + PartialEq> Grid<K> {
    /// A grid covering `width` × `height` with square cells of side `cell`.
    pub(crate) fn new(width: f32, height: f32, cell: f32) -> Self {
        let cols = ((width / cell).ceil() as usize).max(1);
        let rows = ((height / cell).ceil() as usize).max(1);
        Grid {
            cell,
            cols,
            rows,
            cells: (0..cols * rows).map(|_| Vec::new()).collect(),
        }
    }

    fn coords(&self, p: Point) -> (usize, usize) {
        // Float-to-int casts saturate, and positions are clamped to the floor, so the
        // `min` only guards the far edges.
        let col = ((p.x / self.cell) as usize).min(self.cols - 1);
        let row = ((p.y / self.cell) as usize).min(self.rows - 1);
        (col, row)
    }

    fn index(&self, p: Point) -> usize {
        let (col, row) = self.coords(p);
        row * self.cols + col
    }

    /// Adds `key` at `p`.
    pub(crate) fn insert(&mut self, key: K, p: Point) {
        let i = self.index(p);
        self.cells[i].push(key);
    }

    /// Removes `key`, which was inserted at `p`.
    pub(crate) fn remove(&mut self, key: K, p: Point) {
        let i = self.index(p);
        let cell = &mut self.cells[i];
        if let Some(at) = cell.iter().position(|k| *k == key) {
            cell.swap_remove(at);
        }
    }

    /// Moves `key` from `from` to `to`; free when both are in the same cell.
    pub(crate) fn relocate(&mut self, key: K, from: Point, to: Point) {
        if self.index(from) != self.index(to) {
            self.remove(key, from);
            self.insert(key, to);
        }
    }

    /// Appends to `out` every key in the cells the square of half-side `radius` around
    /// `p` touches: a superset of those within `radius`, for the caller to filter.
    pub(crate) fn near(&self, p: Point, radius: f32, out: &mut Vec<K>) {
        self.within(p.x - radius, p.y - radius, p.x + radius, p.y + radius, out);
    }

    /// Appends to `out` every key in the cells that the rectangle from `(left, top)` to
    /// `(right, bottom)` touches: a superset of those inside, for the caller to filter.
    pub(crate) fn within(&self, left: f32, top: f32, right: f32, bottom: f32, out: &mut Vec<K>) {
        if right < left || bottom < top {
            return;
        }
        let (c0, r0) = self.coords(Point::new(left.max(0.0), top.max(0.0)));
        let (c1, r1) = self.coords(Point::new(right.max(0.0), bottom.max(0.0)));
        for row in r0..=r1 {
            for col in c0..=c1 {
                out.extend_from_slice(&self.cells[row * self.cols + col]);
            }
        }
    }

    /// Empties every cell, keeping their room.
    pub(crate) fn clear(&mut self) {
        for cell in &mut self.cells {
            cell.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_neighbours_and_forgets_the_removed() {
        let mut grid = Grid::new(1000.0, 500.0, 100.0);
        grid.insert(1, Point::new(10.0, 10.0));
        grid.insert(2, Point::new(150.0, 10.0));
        grid.insert(3, Point::new(900.0, 450.0));
        let mut out = Vec::new();
        grid.near(Point::new(50.0, 50.0), 60.0, &mut out);
        out.sort();
        assert_eq!(out, vec![1, 2]);
        grid.relocate(2, Point::new(150.0, 10.0), Point::new(950.0, 490.0));
        out.clear();
        grid.near(Point::new(50.0, 50.0), 60.0, &mut out);
        assert_eq!(out, vec![1]);
        out.clear();
        grid.near(Point::new(1000.0, 500.0), 10.0, &mut out);
        out.sort();
        assert_eq!(out, vec![2, 3], "both share the far corner cell");
        grid.remove(2, Point::new(950.0, 490.0));
        out.clear();
        grid.near(Point::new(950.0, 480.0), 200.0, &mut out);
        assert_eq!(out, vec![3]);
    }

    #[test]
    fn a_rectangle_finds_the_keys_of_the_cells_it_touches() {
        let mut grid = Grid::new(1000.0, 500.0, 100.0);
        grid.insert(1, Point::new(10.0, 10.0));
        grid.insert(2, Point::new(450.0, 250.0));
        grid.insert(3, Point::new(990.0, 490.0));
        let mut out = Vec::new();
        grid.within(-500.0, -500.0, 120.0, 50.0, &mut out);
        assert_eq!(out, vec![1], "clamped to the floor");
        out.clear();
        grid.within(300.0, 200.0, 5000.0, 5000.0, &mut out);
        out.sort();
        assert_eq!(out, vec![2, 3]);
        out.clear();
        grid.within(300.0, 200.0, 200.0, 300.0, &mut out);
        assert!(out.is_empty(), "an empty rectangle touches nothing");
        grid.clear();
        grid.within(0.0, 0.0, 1000.0, 500.0, &mut out);
        assert!(out.is_empty());
    }
}
