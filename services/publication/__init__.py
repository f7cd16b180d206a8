"""Publication service: public disclosure of sampling plans and results (公示), and
stopping publication. It never receives or stores credit-risk classes."""
