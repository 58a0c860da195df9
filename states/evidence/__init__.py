"""Evidence a third party can check without trusting perfplan: signed copies of a plan,
signers' receipts, signed checkpoints of the chains' heads."""
