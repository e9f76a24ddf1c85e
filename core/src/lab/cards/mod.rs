//! One module per card: its title, idea and knobs, how its run is set up, and what it says
//! about the run. [`ALL`] is the list; adding a card is one module plus one line there.

use super::Card;

pub mod a;
pub mod b;
pub mod c;
pub mod d;
pub mod e;
pub mod f;
pub mod g;
pub mod h;
pub mod i;
pub mod j;
pub mod k;
pub mod l;
pub mod m;
pub mod n;

/// Every card, in page order.
pub const ALL: [&Card; 14] = [
    &a::CARD,
    &b::CARD,
    &c::CARD,
    &d::CARD,
    &e::CARD,
    &f::CARD,
    &g::CARD,
    &h::CARD,
    &i::CARD,
    &j::CARD,
    &k::CARD,
    &l::CARD,
    &m::CARD,
    &n::CARD,
];
